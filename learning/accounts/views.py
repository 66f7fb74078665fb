"""Sign in (password, then the second factor when the account has one), sign out,
change or reset a password, and one's account page (time zone)."""

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from learning import ratelimit
from learning.access import login_required
from learning.accounts import passwords, throttle
from learning.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    ResetPasswordForm,
    SecondFactorForm,
    TimeZoneForm,
)
from learning.accounts.mfa import check_second_factor, has_mfa
from learning.accounts.models import User
from learning.accounts.service import (
    AccountError,
    authenticate,
    end_all_sessions,
    find_user_by_email,
    is_safe_redirect,
    set_user_time_zone,
)
from learning.accounts.sessions import (
    PENDING,
    begin_session,
    end_session,
    pending_sign_in,
    start_pending,
)
from learning.agency.service import record_audit
from learning.extensions import db
from learning.timeutil import utcnow

bp = Blueprint("accounts", __name__)


def _home_for(user) -> str:
    if user.role in ("trainer",):
        return url_for("author.index")
    if user.role == "officer":
        return url_for("training.index")  # My training: assigned courses first
    return url_for("catalogue.index")


def _private(response):
    """Pages holding a live reset token: never cached, never sent as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def audit_attempt(email: str, outcome: str, details: dict | None = None) -> None:
    """Audit a refused sign-in. Known accounts are named; for an unknown email only the
    first 16 hex digits of a keyed hash are kept, enough to see repeats, not the text."""
    user = find_user_by_email(email)
    if user is not None:
        record_audit(None, "auth.login", user.email, details, agency_id=user.agency_id,
                     outcome=outcome)
    else:
        record_audit(None, "auth.login", f"unknown email {throttle.email_digest(email)[:16]}",
                     details, outcome=outcome)


def throttled(template: str, wait: int, **context):
    """The same 429 page for every account, known or not, with Retry-After."""
    minutes = max(1, (wait + 59) // 60)
    flash(_("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes),
          "error")
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _complete(user: User, remember: bool, target: str, method: str | None):
    """Sign the user in on a fresh session and go on."""
    begin_session(user, remember=remember, mfa_verified=method is not None)
    throttle.clear_account(user.email)
    record_audit(user, "auth.login", user.email, {"second_factor": method} if method else None)
    db.session.commit()
    return redirect(target)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; on success go to a safe ``next`` or the user's home page."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(_home_for(current_user))
    if form.validate_on_submit():
        keys = throttle.limits_for(form.email.data, request.remote_addr)
        wait = throttle.retry_after(keys)
        if wait:
            audit_attempt(form.email.data, "denied")
            db.session.commit()
            return throttled("accounts/login.html", wait, form=form)
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.record_failure(keys)
            audit_attempt(form.email.data, "failure")
            db.session.commit()
            flash(_("The email or password is not correct."), "error")
            return render_template("accounts/login.html", form=form), 401
        target = form.next.data if is_safe_redirect(form.next.data) else _home_for(user)
        if has_mfa(user.id):
            start_pending(user, form.remember.data, target)
            return redirect(url_for(".login_mfa"))
        return _complete(user, form.remember.data, target, None)
    return render_template("accounts/login.html", form=form), 400 if form.errors else 200


@bp.route("/login/mfa", methods=["GET", "POST"])
def login_mfa():
    """Second step of signing in: a code from the authenticator app or a recovery code."""
    pending = pending_sign_in()
    if pending is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for(".login"))
    user, state = pending
    form = SecondFactorForm()
    if form.validate_on_submit():
        keys = throttle.limits_for(user.email, request.remote_addr)
        wait = throttle.retry_after(keys)
        if wait:
            audit_attempt(user.email, "denied", {"step": "second factor"})
            db.session.commit()
            return throttled("accounts/login_mfa.html", wait, form=form)
        method = check_second_factor(user, form.code.data)
        if method is None:
            throttle.record_failure(keys)
            audit_attempt(user.email, "failure", {"step": "second factor"})
            db.session.commit()
            flash(_("This code is not correct, or it was used already (each code works once). "
                    "Enter the next code your app shows."), "error")
            return render_template("accounts/login_mfa.html", form=form), 401
        target = state.get("next")
        return _complete(user, state.get("remember", False),
                         target if is_safe_redirect(target) else _home_for(user), method)
    return render_template("accounts/login_mfa.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Sign out on POST, on every device at once; GET shows a confirmation button."""
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        if current_user.is_authenticated:
            user = current_user._get_current_object()
            record_audit(user, "auth.logout", user.email)
            end_all_sessions(user)
        end_session()
        db.session.commit()
        flash(_("You are signed out."), "info")
        return redirect(url_for("accounts.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return render_template("accounts/logout.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password: every other session ends, this one continues."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            passwords.change_password(current_user, form.current.data, form.password.data)
        except AccountError as exc:
            db.session.rollback()
            form.current.errors.append(str(exc))
            return render_template("accounts/change_password.html", form=form), 400
        login_user(current_user._get_current_object())  # the new session generation
        flash(_("Your password is changed. Every other device was signed out."), "success")
        return redirect(url_for(".change_password"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/change_password.html", form=form), status


@bp.route("/account/", methods=["GET", "POST"])
@login_required
def account():
    """One's own account: the time zone times are shown in, and links to password and data."""
    user = current_user._get_current_object()
    form = TimeZoneForm(data={"time_zone": user.time_zone or ""})
    status = 200
    if form.validate_on_submit():
        try:
            zone = set_user_time_zone(user, form.time_zone.data)
        except AccountError as exc:
            db.session.rollback()
            form.time_zone.errors = [str(exc)]
        else:
            record_audit(user, "account.time_zone", user.email, {"time_zone": zone})
            db.session.commit()
            flash(_("Your time zone is saved."), "success")
            return redirect(url_for(".account"))
    if request.method == "POST":
        status = 400
    return render_template("accounts/account.html", form=form, now=utcnow()), status


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link; the answer never says whether the email has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if not ratelimit.allow("password-reset", current_app.config["RESET_RATE_LIMIT"]):
            return render_template("accounts/forgot.html", form=form, busy=True), 429
        passwords.request_reset(form.email.data)
        return render_template("accounts/forgot.html", sent=True)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/forgot.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Public: choose a new password through an e-mailed link, then sign in."""
    try:
        passwords.check_reset(token)
    except passwords.ResetError as exc:
        return _private(make_response(render_template(
            "accounts/reset.html", error=str(exc)), exc.status))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.complete_reset(token, form.password.data)
        except passwords.ResetError as exc:
            return _private(make_response(render_template(
                "accounts/reset.html", error=str(exc)), exc.status))
        except AccountError as exc:
            db.session.rollback()
            form.password.errors.append(str(exc))
        else:
            logout_user()
            flash(_("Your password is changed. Sign in with your email and new password."),
                  "success")
            return redirect(url_for("accounts.login"))
    return _private(make_response(render_template("accounts/reset.html", form=form)))
