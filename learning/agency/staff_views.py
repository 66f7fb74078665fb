"""``/agency/staff/`` and ``/invite/<token>``: officers by unit, CSV import, invitations."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from learning.access import role_required
from learning.accounts.service import AccountError
from learning.agency import invitations, staff, staff_import
from learning.agency.staff_forms import (
    ConfirmImportForm,
    SetPasswordForm,
    StaffActionForm,
    StaffUploadForm,
)
from learning.core.inputs import ascii_int
from learning.core.urls import external_url
from learning.extensions import db

bp = Blueprint("staff", __name__)


def agency_manager_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Managers of an agency only: staff pages act on one agency's people."""

    @role_required("manager")
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.agency_id is None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _private(response):
    """Pages holding a live invitation token: never cached, never sent as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/agency/staff/")
@agency_manager_required
def index():
    """The officers the manager may see, unit by unit, with their account buttons."""
    return render_template("agency/staff_index.html", groups=staff.list_staff(current_user))


@bp.route("/agency/staff/import", methods=["GET", "POST"])
@agency_manager_required
def import_staff():
    """Upload a CSV and preview it: the officers to create and update, or every problem."""
    form = StaffUploadForm()
    if not form.validate_on_submit():
        return render_template("agency/staff_import.html", form=form)
    data = form.file.data.stream.read(staff_import.MAX_IMPORT_BYTES + 1)
    preview = staff_import.preview_import(current_user, data, create_units=True)
    if not preview.ok:
        return render_template("agency/staff_import.html", form=form, preview=preview), 422
    pending = staff_import.stash_upload(current_user, data)
    confirm = ConfirmImportForm(pending_id=pending.id, sha256=pending.sha256, formdata=None)
    return render_template("agency/staff_import.html", form=form, preview=preview,
                           confirm=confirm, filename=form.file.data.filename)


@bp.get("/agency/staff/import/template.csv")
@agency_manager_required
def import_template():
    """A staff file to fill in: the header and one example row, in the manager's units."""
    response = make_response(staff_import.template_csv(current_user))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = 'attachment; filename="staff-template.csv"'
    return response


@bp.post("/agency/staff/import/confirm")
@agency_manager_required
def confirm_import():
    """Apply the previewed upload, all of it or none of it."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if not form.create_units.data:  # the file names units the agency lacks: ask again
            preview = staff_import.pending_preview(current_user, form.pending_id.data,
                                                   form.sha256.data)
            if preview.missing_units:
                flash(_("Nothing was imported: tick the box to create the new units, or "
                        "correct the unit names and upload the file again."), "error")
                return render_template("agency/staff_import.html", preview=preview,
                                       form=StaffUploadForm(formdata=None), confirm=form), 422
        result = staff_import.apply_pending_import(current_user, form.pending_id.data,
                                                   form.sha256.data, form.create_units.data)
    except staff_import.StaffImportError as exc:
        return render_template("agency/staff_import.html", form=StaffUploadForm(formdata=None),
                               problems=exc.problems), 422
    flash(_("Import done: %(created)d officers added, %(updated)d updated, %(unchanged)d "
            "unchanged.", created=len(result.create), updated=len(result.update),
            unchanged=len(result.unchanged)), "success")
    return redirect(url_for(".index"))


@bp.post("/agency/staff/<int:user_id>/invite")
@agency_manager_required
def invite_officer(user_id: int):
    """Create an invitation and show its link, this once only."""
    if not StaffActionForm().validate_on_submit():
        abort(400)
    try:
        invitation, token = staff.create_invitation(current_user, user_id)
    except staff.OfficerNotFound:
        abort(404)
    except staff.StaffError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    officer = staff.visible_officer(current_user, user_id)
    return _private(make_response(render_template(
        "agency/staff_invite_link.html", officer=officer, invitation=invitation,
        link=external_url("staff.invite", token=token))))


@bp.post("/agency/staff/invitations")
@agency_manager_required
def invite_selected():
    """E-mail an invitation link to each ticked officer (no link is shown here)."""
    values = [ascii_int(v, minimum=1) for v in request.form.getlist("officer_id")]
    if not StaffActionForm().validate_on_submit() or None in values:
        abort(400)
    if not values:
        flash(_("Tick the officers to invite first."), "error")
        return redirect(url_for(".index"))
    report = invitations.send_invitations(current_user, values,
                                          lambda token: url_for(".invite", token=token))
    if report.sent:
        flash(_("Invitation e-mails are on their way to %(names)s.",
                names=", ".join(o.display_name for o in report.sent)), "success")
    for name, reason in report.refused:
        flash(_("Not invited: %(name)s. %(reason)s", name=name, reason=reason), "error")
    if report.unknown:
        flash(_("%(n)d of the selected officers could not be found.", n=report.unknown),
              "error")
    return redirect(url_for(".index"))


@bp.post("/agency/staff/<int:user_id>/deactivate")
@agency_manager_required
def deactivate(user_id: int):
    """Stop an officer signing in; their history stays."""
    return _account_action(staff.deactivate_officer, user_id,
                           _("%(name)s is deactivated and can no longer sign in."))


@bp.post("/agency/staff/<int:user_id>/reactivate")
@agency_manager_required
def reactivate(user_id: int):
    """Let a deactivated officer sign in again."""
    return _account_action(staff.reactivate_officer, user_id,
                           _("%(name)s is active again."))


def _account_action(action: Callable[..., Any], user_id: int, message: str):
    """Run a deactivate/reactivate button: 404 for anyone the manager may not see."""
    if not StaffActionForm().validate_on_submit():
        abort(400)
    try:
        officer = action(current_user, user_id)
    except staff.OfficerNotFound:
        abort(404)
    flash(message % {"name": officer.display_name}, "success")
    return redirect(url_for(".index"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str):
    """Public: an invited officer sets a password, then signs in."""
    try:
        staff.check_invitation(token)
    except staff.InvitationError as exc:
        return _private(make_response(render_template(
            "agency/invite.html", error=str(exc)), exc.status))
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            staff.accept_invitation(token, form.password.data)
        except staff.InvitationError as exc:
            return _private(make_response(render_template(
                "agency/invite.html", error=str(exc)), exc.status))
        except AccountError as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
        else:
            logout_user()
            flash(_("Your password is set. Sign in with your email and new password."),
                  "success")
            return redirect(url_for("accounts.login"))
    return _private(make_response(render_template("agency/invite.html", form=form)))
