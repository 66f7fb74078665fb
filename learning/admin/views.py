"""``/admin/``: instance overview and certificate revocation."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user

from learning.access import fresh_mfa_required, role_required
from learning.accounts.forms import AgencyTimeZoneForm
from learning.accounts.mfa import has_mfa, reset_mfa
from learning.accounts.models import Agency, Unit, User
from learning.accounts.passwords import send_reset_link
from learning.accounts.service import find_user_by_email
from learning.admin.forms import (
    ActiveForm,
    AgencyForm,
    CertificateSearchForm,
    IssuerForm,
    JurisdictionForm,
    MfaResetForm,
    NewUserForm,
    ResetLinkForm,
    RevokeForm,
    RoleForm,
    UnitForm,
)
from learning.admin.service import (
    AdminError,
    add_unit,
    agencies_with_counts,
    audit_page,
    change_role,
    create_account,
    create_agency,
    set_active,
    set_jurisdiction,
)
from learning.agency.service import save_time_zone
from learning.audit.chain import OUTCOMES
from learning.audit.service import record_audit
from learning.certificates.issuer import IssuerError, current_issuer, set_issuer
from learning.certificates.models import Certificate
from learning.certificates.service import find_certificate, revoke_certificate
from learning.content.jurisdictions import choices as jurisdiction_choices
from learning.core.inputs import MAX_PAGE, ascii_int
from learning.core.urls import DEBUG_BASE_URL
from learning.extensions import db
from learning.timeutil import utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")


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


@bp.route("/agencies/", methods=["GET", "POST"])
@role_required("admin")
def agencies():
    """Every agency, and a form to add one."""
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            agency = create_agency(current_user, form.name.data, form.slug.data)
        except AdminError as exc:
            flash(str(exc), "error")
        else:
            return redirect(url_for(".agency", agency_id=agency.id))
    return render_template("admin/agencies.html", rows=agencies_with_counts(), form=form)


@bp.route("/agencies/<int:agency_id>/", methods=["GET", "POST"])
@role_required("admin")
def agency(agency_id: int):
    """An agency's units and managers, and a form to add a unit."""
    found = db.session.get(Agency, agency_id) or abort(404)
    form = UnitForm()
    if form.validate_on_submit():
        try:
            add_unit(current_user, found, form.name.data, form.kind.data)
        except AdminError as exc:
            flash(str(exc), "error")
        else:
            return redirect(url_for(".agency", agency_id=agency_id))
    return _agency_page(found, form, AgencyTimeZoneForm(data={"time_zone": found.time_zone}),
                        JurisdictionForm(formdata=None, jurisdiction=found.jurisdiction or ""))


def _agency_page(found: Agency, form: UnitForm, zone_form: AgencyTimeZoneForm,
                 place: JurisdictionForm, status: int = 200):
    """An agency's page: units, time zone, jurisdiction and managers."""
    managers = db.session.scalars(sa.select(User).where(
        User.agency_id == found.id, User.role == "manager").order_by(User.display_name)).all()
    _jurisdiction_menu(place)
    return render_template("admin/agency.html", agency=found, form=form, managers=managers,
                           zone_form=zone_form, place=place), status


def _jurisdiction_menu(form: JurisdictionForm) -> None:
    """None, the EU and the UK, then every country by name (in the reader's language)."""
    form.jurisdiction.choices = ([("", _("None (general text only)"))]
                                 + jurisdiction_choices(str(get_locale())))


@bp.post("/agencies/<int:agency_id>/time-zone")
@role_required("admin")
def agency_time_zone(agency_id: int):
    """Set an agency's time zone (its managers can too, from their settings page)."""
    found = db.session.get(Agency, agency_id) or abort(404)
    zone_form = AgencyTimeZoneForm()
    if zone_form.validate_on_submit() and save_time_zone(current_user, found, zone_form):
        flash(_("The agency's time zone is saved."), "success")
        return redirect(url_for(".agency", agency_id=agency_id))
    return _agency_page(found, UnitForm(formdata=None), zone_form,
                        JurisdictionForm(formdata=None, jurisdiction=found.jurisdiction or ""),
                        400)


@bp.post("/agencies/<int:agency_id>/jurisdiction/")
@role_required("admin")
def agency_jurisdiction(agency_id: int):
    """Set whose lesson passages and final items the agency's officers get."""
    found = db.session.get(Agency, agency_id) or abort(404)
    form = JurisdictionForm()
    _jurisdiction_menu(form)
    if not form.validate_on_submit():
        flash(_("Choose a jurisdiction from the list."), "error")
        return _agency_page(found, UnitForm(formdata=None),
                            AgencyTimeZoneForm(data={"time_zone": found.time_zone}), form, 400)
    set_jurisdiction(current_user, found, form.jurisdiction.data)
    flash(_("Jurisdiction saved."), "success")
    return redirect(url_for(".agency", agency_id=agency_id))


@bp.get("/users/")
@role_required("admin")
def users():
    """Find a user by email; list trainers, managers and admins."""
    email = request.args.get("email", "").strip()
    if email:
        found = find_user_by_email(email)
        if found is not None:
            return redirect(url_for(".user", user_id=found.id))
        flash(_("No user has this email."), "error")
    staff = db.session.scalars(sa.select(User).where(User.role != "officer")
                               .order_by(User.role, User.display_name)).all()
    return render_template("admin/users.html", staff=staff)


def _organisation_choices(form: RoleForm | NewUserForm) -> None:
    """Fill the agency and unit menus (0 stands for none)."""
    agencies = db.session.scalars(sa.select(Agency).order_by(Agency.name)).all()
    units = db.session.scalars(sa.select(Unit).order_by(Unit.name)).all()
    form.agency_id.choices = [(0, _("None"))] + [(a.id, a.name) for a in agencies]
    form.unit_id.choices = [(0, _("None"))] + [(u.id, f"{u.agency.name}: {u.name}")
                                               for u in units]


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
@fresh_mfa_required
def new_user():
    """Create a trainer, manager, admin or officer; they set their password from an e-mail."""
    form = NewUserForm()
    _organisation_choices(form)
    if form.validate_on_submit():
        try:
            person, sent = create_account(current_user, form.email.data, form.display_name.data,
                                          form.role.data, form.agency_id.data or None,
                                          form.unit_id.data or None)
        except AdminError as exc:
            flash(str(exc), "error")
            return render_template("admin/new_user.html", form=form), 400
        else:
            if sent:
                flash(_("The account is created. A link to choose a password is on its way to "
                        "%(email)s; it works once, within three days.", email=person.email),
                      "success")
            else:
                flash(_("The account is created, but no link was sent. Send one below."),
                      "error")
            return redirect(url_for(".user", user_id=person.id))
    elif form.is_submitted():
        return render_template("admin/new_user.html", form=form), 400
    return render_template("admin/new_user.html", form=form)


@bp.route("/users/<int:user_id>/", methods=["GET", "POST"])
@role_required("admin")
@fresh_mfa_required
def user(user_id: int):
    """Change a user's role, agency and unit."""
    person = db.session.get(User, user_id) or abort(404)
    form = RoleForm(obj=None if request.method == "POST" else person)
    _organisation_choices(form)
    if request.method == "GET":
        form.agency_id.data = person.agency_id or 0
        form.unit_id.data = person.unit_id or 0
    if form.validate_on_submit():
        try:
            change_role(current_user, person, form.role.data, form.agency_id.data or None,
                        form.unit_id.data or None)
        except AdminError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            if person.id == current_user.id:
                login_user(person)  # an admin editing themself keeps this session
            flash(_("Saved."), "success")
            return redirect(url_for(".user", user_id=user_id))
    return render_template("admin/user.html", person=person, form=form,
                           reset_form=ResetLinkForm(formdata=None),
                           has_mfa=has_mfa(person.id), mfa_form=MfaResetForm(),
                           active_form=ActiveForm(formdata=None))


@bp.post("/users/<int:user_id>/active")
@role_required("admin")
@fresh_mfa_required
def set_user_active(user_id: int):
    """Deactivate an account (every session ends) or reactivate it; history stays."""
    person = db.session.get(User, user_id) or abort(404)
    form = ActiveForm()
    if not form.validate_on_submit() or form.deactivate.data == form.reactivate.data:
        abort(400)
    try:
        changed = set_active(current_user, person, bool(form.reactivate.data))
    except AdminError as exc:
        flash(str(exc), "error")
    else:
        if changed and person.active:
            flash(_("The account is active again. Its history is as it was."), "success")
        elif changed:
            flash(_("The account is deactivated and every session of it has ended."),
                  "success")
    return redirect(url_for(".user", user_id=user_id))


@bp.post("/users/<int:user_id>/reset-password")
@role_required("admin")
def send_password_reset(user_id: int):
    """E-mail the user a reset link; the link goes to them only, never to the admin."""
    person = db.session.get(User, user_id) or abort(404)
    if not ResetLinkForm().validate_on_submit():
        abort(400)
    if send_reset_link(person, requested_by=current_user):
        flash(_("A reset link is on its way to the user's own email address. It works once, "
                "within an hour."), "success")
    else:
        flash(_("No link was sent: the account is deactivated, or several links were sent "
                "within the last hour."), "error")
    return redirect(url_for(".user", user_id=user_id))


@bp.post("/users/<int:user_id>/mfa/reset")
@role_required("admin")
@fresh_mfa_required
def reset_user_mfa(user_id: int):
    """Remove a user's second factor (a lost phone) and end all their sessions."""
    person = db.session.get(User, user_id) or abort(404)
    if not MfaResetForm().validate_on_submit():
        abort(400)
    reset_mfa(person)
    record_audit(current_user, "mfa.reset", person.email, agency_id=person.agency_id)
    db.session.commit()
    flash(_("The second factor is removed and every session of this account has ended."),
          "success")
    return redirect(url_for(".user", user_id=user_id))


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
                           action=action, outcome=outcome, outcomes=OUTCOMES)


@bp.route("/settings/", methods=["GET", "POST"])
@role_required("admin")
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
        (_("Outgoing mail"), config.get("SMTP_HOST") or _("not configured: messages are "
                                                          "written to the log")),
        (_("Secure cookies (HTTPS only)"), _("yes") if config["SESSION_COOKIE_SECURE"]
         else _("no")),
    ]
    return render_template("admin/settings.html", rows=rows, form=form), status
