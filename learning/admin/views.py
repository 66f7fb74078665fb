"""``/admin/``: instance overview, certificate revocation, the audit log and settings.

Every admin route hangs on the one ``admin`` blueprint (``blueprint.py``); agencies
and accounts have their own modules, imported here so that their routes are
registered whenever the app registers ``bp``.
"""

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learning.access import fresh_mfa_required, role_required
from learning.admin import agency_views, user_views  # noqa: F401 - registers their routes
from learning.admin.blueprint import bp
from learning.admin.forms import CertificateSearchForm, IssuerForm, RevokeForm
from learning.admin.service import audit_page
from learning.agency.outbox import mail_destination
from learning.audit.chain import OUTCOMES
from learning.audit.service import latest_verdict, record_audit
from learning.certificates.issuer import IssuerError, current_issuer, set_issuer
from learning.certificates.models import Certificate
from learning.certificates.service import find_certificate, revoke_certificate
from learning.core.inputs import MAX_PAGE, ascii_int
from learning.core.urls import DEBUG_BASE_URL
from learning.extensions import db
from learning.timeutil import utcnow


@bp.get("/")
@role_required("admin")
def index():
    """Recent certificates and a lookup by code."""
    form = CertificateSearchForm(request.args)
    if request.args.get("code") and form.validate():
        certificate = find_certificate(form.code.data.strip().lower())
        if certificate is None:
            flash(_("No certificate has this code."), "error")
        else:
            return redirect(url_for(".certificate", code=certificate.code))
    recent = db.session.scalars(sa.select(Certificate).order_by(Certificate.id.desc())
                                .limit(50)).all()
    return render_template("admin/index.html", form=form, recent=recent, today=utcnow().date())


@bp.route("/certificates/<code>", methods=["GET", "POST"])
@role_required("admin")
@fresh_mfa_required
def certificate(code: str):
    """One certificate, with the revoke form."""
    found = find_certificate(code) or abort(404)
    form = RevokeForm()
    if form.validate_on_submit():
        revoke_certificate(found, form.reason.data, current_user.id)
        record_audit(current_user, "certificate.revoke", found.code,
                     {"reason": form.reason.data}, agency_id=found.user.agency_id)
        db.session.commit()
        flash(_("The certificate is revoked. Its public page now says so."), "success")
        return redirect(url_for(".certificate", code=code))
    return render_template("admin/certificate.html", certificate=found, form=form,
                           status=found.status(utcnow().date()))


@bp.get("/audit/")
@role_required("admin")
def audit():
    """The audit log, newest first. It can be read here and changed nowhere."""
    page = ascii_int(request.args.get("page"), minimum=1, maximum=MAX_PAGE) or 1
    action = (request.args.get("action") or "")[:60] or None
    outcome = request.args.get("outcome") or None
    if outcome is not None and outcome not in OUTCOMES:
        abort(400)
    rows, more = audit_page(page, action=action, outcome=outcome)
    return render_template("admin/audit.html", rows=rows, page=page, more=more,
                           action=action, outcome=outcome, outcomes=OUTCOMES,
                           last_check=latest_verdict())


@bp.route("/settings/", methods=["GET", "POST"])
@role_required("admin")
@fresh_mfa_required
def settings():
    """How this instance is configured, and who issues its certificates (editable here)."""
    form = IssuerForm(obj=None if request.method == "POST" else current_issuer())
    status = 200
    if form.validate_on_submit():
        try:
            set_issuer(current_user, form.issuer_name.data, form.signatory_name.data,
                       form.signatory_title.data)
        except IssuerError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 400
        else:
            flash(_("Saved. Certificates issued from now on carry these lines; those already "
                    "issued keep theirs."), "success")
            return redirect(url_for(".settings"))
    elif form.is_submitted():
        status = 400
    config = current_app.config
    uri = config["SQLALCHEMY_DATABASE_URI"]
    rows = [
        (_("Database"), "PostgreSQL" if uri.startswith("postgresql") else "SQLite"),
        (_("Shared store for rate limits"), "Redis" if config["RATELIMIT_STORAGE_URI"]
         .startswith("redis") else _("memory of each server")),
        (_("Public address of links"), config.get("BASE_URL")
         or _("not set: %(url)s (debug only)", url=DEBUG_BASE_URL)),
        (_("Certificates count as expiring within"), f"{config['EXPIRING_WITHIN_DAYS']} d"),
        (_("Verify page rate limit"), config["VERIFY_RATE_LIMIT"]),
        (_("Outgoing mail"), _mail_row()),
        (_("Secure cookies (HTTPS only)"), _("yes") if config["SESSION_COOKIE_SECURE"]
         else _("no")),
    ]
    return render_template("admin/settings.html", rows=rows, form=form), status


def _mail_row() -> str:
    kind, where = mail_destination()
    if kind == "smtp":
        return where
    if kind == "folder":
        return _("no SMTP server: messages are written as files into %(folder)s", folder=where)
    return _("not configured: messages are written to the log")
