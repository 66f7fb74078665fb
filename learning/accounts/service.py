"""Accounts: password hashing, authentication, and creating people and agencies."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from learning.accounts.models import ROLES, Agency, Unit, User
from learning.extensions import db
from learning.timeutil import is_time_zone, utcnow

# RFC 9106's second recommendation (argon2id, 3 passes over 64 MiB), argon2-cffi's default.
PASSWORD_PARAMETERS = profiles.RFC_9106_LOW_MEMORY
_hasher = PasswordHasher.from_parameters(PASSWORD_PARAMETERS)
# Verified against when the email is unknown, so a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash("waymark-timing-equaliser")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
MAX_DISPLAY_NAME_LENGTH = 120  # fits one line of a printed certificate
# Characters that make a name look like another's: direction overrides and isolates,
# direction marks, and zero-width characters.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c")
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


class AccountError(ValueError):
    """A request about accounts that cannot be carried out, with a message for people."""


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")


def clean_display_name(name: str) -> str:
    """A name fit to print on a certificate: NFC, single spaces, nothing hidden or reordering.

    Every way accounts get a name (create_user, the staff import, the CLI) goes
    through here, so no certificate can carry a name that only looks like another's.
    """
    name = unicodedata.normalize("NFC", name or "")
    for char in name:
        if char in BIDI_CONTROLS:
            raise AccountError(_("The name contains a text-direction control character "
                                 "(U+%(code)04X); type it without one.", code=ord(char)))
        if char in ZERO_WIDTH:
            raise AccountError(_("The name contains an invisible zero-width character "
                                 "(U+%(code)04X); type it without one.", code=ord(char)))
        if unicodedata.category(char) == "Cc":
            raise AccountError(_("The name contains a control character (U+%(code)04X) such "
                                 "as a tab or line break; type it on one line.",
                                 code=ord(char)))
        if unicodedata.category(char) in ("Cf", "Cs", "Co", "Cn"):
            raise AccountError(_("The name contains an invisible or unassigned character "
                                 "(U+%(code)04X); type it without one.", code=ord(char)))
    name = " ".join(name.split())
    if not name:
        raise AccountError(_("A display name is required."))
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise AccountError(_("The name is longer than %(n)d characters.",
                             n=MAX_DISPLAY_NAME_LENGTH))
    return name


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, else None.

    Unknown emails, wrong passwords and deactivated accounts all look the
    same to the caller and take about the same time.
    """
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.password_hash or not user.active:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def is_safe_redirect(target: str | None) -> bool:
    """True only for a path on this site (no scheme, no host, no '//' or backslash tricks)."""
    if not target:
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") \
        and not target.startswith("//")


def get_or_create_agency(name: str, slug: str) -> Agency:
    """The agency with this slug, created if missing."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.slug == slug))
    if agency is None:
        agency = Agency(name=name, slug=slug)
        db.session.add(agency)
        db.session.flush()
    return agency


def get_or_create_unit(agency: Agency, name: str, kind: str = "post") -> Unit:
    """The unit of this agency with this name, created if missing."""
    unit = db.session.scalar(sa.select(Unit).where(Unit.agency_id == agency.id,
                                                   Unit.name == name))
    if unit is None:
        unit = Unit(agency_id=agency.id, name=name, kind=kind)
        db.session.add(unit)
        db.session.flush()
    return unit


def create_user(email: str, display_name: str, password: str | None, role: str = "officer",
                agency: Agency | None = None, unit: Unit | None = None) -> User:
    """Create an account after checking its email, role, password and organisation."""
    email = normalise_email(email)
    if not EMAIL.match(email):
        raise AccountError(f"'{email}' is not a valid email address.")
    if role not in ROLES:
        raise AccountError(f"Unknown role '{role}'; use one of: {', '.join(ROLES)}.")
    display_name = clean_display_name(display_name)
    if unit is not None and (agency is None or unit.agency_id != agency.id):
        raise AccountError("The unit must belong to the user's agency.")
    if role in ("officer", "manager") and agency is None:
        raise AccountError(f"A user with the role '{role}' must belong to an agency.")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise AccountError(f"A user with the email '{email}' already exists.")
    if password is not None:
        check_password_strength(password)
    user = User(email=email, display_name=display_name, role=role,
                password_hash=hash_password(password) if password else None,
                agency_id=agency.id if agency else None, unit_id=unit.id if unit else None)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Replace a user's password and end every session of the account (the caller commits)."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    end_all_sessions(user)


def password_matches(user: User, password: str) -> bool:
    """True when ``password`` is the account's current one."""
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def end_all_sessions(user: User) -> None:
    """End every session and remember-me cookie of this account at its next request.

    Call on logout, password change or reset, deactivation, role change and
    MFA reset; the caller commits.
    """
    user.session_generation = (user.session_generation or 0) + 1


def claim_link(model: type, link_id: int, now: datetime) -> bool:
    """Use up a single-use link (invitation or password reset) with one conditional UPDATE,
    so two requests racing with the same link cannot both succeed."""
    claimed = db.session.execute(sa.update(model).where(
        model.id == link_id, model.used_at.is_(None), model.revoked_at.is_(None),
        model.expires_at > now).values(used_at=now))
    return claimed.rowcount == 1


def find_user_by_email(email: str) -> User | None:
    """The user with this email, if any."""
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def _checked_zone(name: str | None, *, optional: bool) -> str | None:
    """A known IANA zone name, None for an empty optional one; AccountError otherwise."""
    name = (name or "").strip()
    if not name and optional:
        return None
    if not is_time_zone(name):
        raise AccountError(_("“%(name)s” is not a time zone we know. Choose one from the list, "
                             "such as Europe/Paris or America/New_York.", name=name[:64]))
    return name


def set_user_time_zone(user: User, name: str | None) -> str | None:
    """Show the user every time in this zone; empty means their agency's (caller commits)."""
    user.time_zone = _checked_zone(name, optional=True)
    return user.time_zone


def set_agency_time_zone(agency: Agency, name: str) -> str:
    """Show the agency's people every time in this zone unless they chose their own."""
    agency.time_zone = _checked_zone(name, optional=False)
    return agency.time_zone
