"""Sign in and sign out."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from learning.accounts.forms import LoginForm, LogoutForm
from learning.accounts.service import authenticate, is_safe_redirect

bp = Blueprint("accounts", __name__)


def _home_for(user) -> str:
    if user.role in ("trainer",):
        return url_for("author.index")
    return url_for("catalogue.index")


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
    """Sign out on POST; GET shows a confirmation button."""
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        logout_user()
        flash(_("You are signed out."), "info")
        return redirect(url_for("accounts.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return render_template("accounts/logout.html", form=form)
