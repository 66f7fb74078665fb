"""Who issues certificates: the agency or instance name and an optional signatory.

Set by admins on /admin/settings/; each new certificate copies the values, so a later
change never alters what an issued certificate says.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

from learning.accounts.models import User
from learning.accounts.service import AccountError, clean_display_name
from learning.agency.service import record_audit
from learning.certificates.models import CertificateIssuer
from learning.extensions import db
from learning.timeutil import utcnow

LIMITS = {"issuer_name": 200, "signatory_name": 120, "signatory_title": 200}


class IssuerError(ValueError):
    """Issuer settings that cannot be saved, with a message for the admin."""


def current_issuer() -> CertificateIssuer:
    """The settings row (a blank, unsaved one before an admin first sets it)."""
    return db.session.get(CertificateIssuer, 1) or CertificateIssuer(
        id=1, issuer_name="", signatory_name="", signatory_title="")


def _clean(value: str, field: str) -> str:
    """One printable line: the same checks as names printed on certificates."""
    value = unicodedata.normalize("NFC", " ".join((value or "").split()))
    if not value:
        return ""
    if len(value) > LIMITS[field]:
        raise IssuerError(_("Keep each line under %(n)d characters.", n=LIMITS[field]))
    try:  # no hidden, reordering or control characters, checked a name-sized piece at a time
        for start in range(0, len(value), 100):
            clean_display_name(value[start:start + 100])
    except AccountError as exc:
        raise IssuerError(str(exc)) from exc
    return value


def set_issuer(admin: User, issuer_name: str, signatory_name: str,
               signatory_title: str) -> CertificateIssuer:
    """Save the issuer settings (audited); certificates issued from now on carry them."""
    values = {"issuer_name": _clean(issuer_name, "issuer_name"),
              "signatory_name": _clean(signatory_name, "signatory_name"),
              "signatory_title": _clean(signatory_title, "signatory_title")}
    if values["signatory_title"] and not values["signatory_name"]:
        raise IssuerError(_("Give the signatory's name with their title."))
    row = current_issuer()
    before = {key: getattr(row, key) for key in values}
    if before == values:
        return row
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at, row.updated_by = utcnow(), admin.id
    db.session.add(row)
    record_audit(admin, "settings.issuer", "certificates", {"before": before, "after": values})
    db.session.commit()
    return row
