"""``/admin/users/``: find, create and change accounts; reset passwords and second factors."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from wtforms import SelectChoice

from learning.access import fresh_mfa_required, role_required
from learning.accounts.mfa import has_mfa, reset_mfa
from learning.accounts.models import Agency, Unit, User
from learning.accounts.passwords import send_reset_link
from learning.accounts.service import find_user_by_email
from learning.admin.blueprint import bp
from learning.admin.forms import ActiveForm, MfaResetForm, NewUserForm, ResetLinkForm, RoleForm
from learning.admin.service import AdminError, change_role, create_account, set_active
from learning.audit.service import record_audit
from learning.extensions import db


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
    form.agency_id.choices = [SelectChoice(0, _("None"))] + [SelectChoice(a.id, a.name)
                                                             for a in agencies]
    form.unit_id.choices = [SelectChoice(0, _("None"))] + [
        SelectChoice(u.id, f"{u.agency.name}: {u.name}") for u in units]


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
