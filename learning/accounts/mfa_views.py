"""``/account/mfa/``: set up the second factor, and give it again before sensitive changes."""

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
from flask_login import current_user

from learning.access import login_required
from learning.accounts import throttle
from learning.accounts.forms import EnrolForm, SecondFactorForm
from learning.accounts.mfa import (
    MfaError,
    check_second_factor,
    confirm_enrolment,
    credential_of,
    has_mfa,
    provisioning_uri,
    qr_svg,
    start_enrolment,
    totp_secret,
)
from learning.accounts.service import is_safe_redirect
from learning.accounts.sessions import mark_mfa_given
from learning.accounts.views import audit_attempt, throttled
from learning.agency.service import record_audit
from learning.extensions import db

bp = Blueprint("mfa", __name__, url_prefix="/account/mfa")


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/enrol", methods=["GET", "POST"])
@login_required
def enrol():
    """Show the secret and its QR code; the first correct code turns the factor on."""
    user = current_user._get_current_object()
    if has_mfa(user.id):
        flash(_("Your second factor is already set up."), "info")
        return redirect(url_for("core.home"))
    credential = start_enrolment(user)
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = confirm_enrolment(user, form.code.data)
        except MfaError:
            flash(_("This code is not correct. Enter the code the app shows now."), "error")
        else:
            mark_mfa_given()
            record_audit(user, "mfa.enrol", user.email)
            db.session.commit()
            return _no_store(make_response(render_template(
                "accounts/recovery_codes.html", codes=codes)))
    db.session.commit()  # the waiting secret is kept, so the QR code stays the same
    secret = totp_secret(credential)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return _no_store(make_response(render_template(
        "accounts/mfa_enrol.html", form=form, secret=grouped),
        400 if request.method == "POST" else 200))


@bp.get("/qr.svg")
@login_required
def qr():
    """The QR code of the secret waiting to be confirmed (an image, so no inline markup)."""
    credential = credential_of(current_user.id)
    if credential is None or credential.confirmed_at is not None:
        abort(404)
    response = make_response(qr_svg(provisioning_uri(current_user, credential)))
    response.headers["Content-Type"] = "image/svg+xml"
    return _no_store(response)


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    """Give the second factor again (after 15 minutes) before a sensitive change."""
    user = current_user._get_current_object()
    form = SecondFactorForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    target = form.next.data if is_safe_redirect(form.next.data) else url_for("core.home")
    if not has_mfa(user.id):
        return redirect(target)
    if form.validate_on_submit():
        keys = throttle.limits_for(user.email, request.remote_addr)
        wait = throttle.retry_after(keys)
        if wait:
            audit_attempt(user.email, "denied", {"step": "confirm"})
            db.session.commit()
            return throttled("accounts/mfa_confirm.html", wait, form=form)
        method = check_second_factor(user, form.code.data)
        if method is not None:
            mark_mfa_given()
            throttle.clear_account(user.email)
            db.session.commit()
            return redirect(target)
        throttle.record_failure(keys)
        audit_attempt(user.email, "failure", {"step": "confirm"})
        db.session.commit()
        flash(_("This code is not correct, or it was used already (each code works once). "
                "Enter the next code your app shows."), "error")
        return render_template("accounts/mfa_confirm.html", form=form), 401
    return render_template("accounts/mfa_confirm.html", form=form), \
        400 if form.errors else 200
