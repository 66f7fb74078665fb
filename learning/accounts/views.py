"""Sign in and out, change a password, and reset a forgotten one."""

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from learning import ratelimit
from learning.access import login_required
from learning.accounts import passwords
from learning.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    ResetPasswordForm,
)
from learning.accounts.service import (
    AccountError,
    authenticate,
    end_all_sessions,
    is_safe_redirect,
)
from learning.extensions import db

bp = Blueprint("accounts", __name__)


def _home_for(user) -> str:
    if user.role in ("trainer",):
        return url_for("author.index")
    return url_for("catalogue.index")


def _private(response):
    """Pages holding a live reset token: never cached, never sent as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; on success go to a safe ``next`` or the user's home page."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(_home_for(current_user))
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            target = form.next.data
            return redirect(target if is_safe_redirect(target) else _home_for(user))
        flash(_("The email or password is not correct."), "error")
        return render_template("accounts/login.html", form=form), 401
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """Sign out on POST, on every device at once; GET shows a confirmation button."""
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        if current_user.is_authenticated:
            end_all_sessions(current_user)
            db.session.commit()
        logout_user()
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
