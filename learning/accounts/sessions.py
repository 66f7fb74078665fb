"""Request glue for signing in: fresh sessions, the remember-me cookie, the MFA gate, step-up.

Nothing here costs a query on an ordinary signed-in request: the remember-me cookie
is read only when the session holds no user, and the second-factor gate trusts the
session once it says the factor was given.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from learning.accounts.mfa import PRIVILEGED_ROLES, has_mfa
from learning.accounts.models import User
from learning.accounts.remember import (
    forget_remember_token,
    issue_remember_token,
    user_from_remember_token,
)
from learning.extensions import db

MFA_STATE = "mfa_state"  # "verified" once the second factor was given (or remembered)
MFA_AT = "mfa_at"  # when the second factor was last typed in this session (epoch seconds)
PENDING = "mfa_pending"  # password accepted, second factor still to come
PENDING_SECONDS = 5 * 60
# Endpoints a privileged account without a second factor may still reach.
GATE_EXEMPT = {"static", "core.healthz", "core.readyz", "accounts.logout", "accounts.login_mfa",
               "mfa.enrol", "mfa.qr", "mfa.confirm"}


def begin_session(user: User, *, remember: bool, mfa_verified: bool) -> None:
    """Sign in on a fresh session: nothing from before survives, the CSRF token included.

    With ``remember``, a new remember-me token is made; its cookie is set on the way out.
    The caller commits.
    """
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the token per request
    login_user(user, remember=False)
    if mfa_verified:
        session[MFA_STATE] = "verified"
        session[MFA_AT] = time.time()
    if remember:
        g.remember_cookie = issue_remember_token(user, current_app.config["REMEMBER_TOKEN_DAYS"])


def end_session() -> None:
    """Sign out here: drop this browser's remember-me token and empty the session."""
    forget_remember_token(request.cookies.get(current_app.config["REMEMBER_TOKEN_COOKIE"]))
    logout_user()
    session.clear()
    g.remember_cookie = ""


def mark_mfa_given() -> None:
    """The second factor was just typed in this session (enrolment, step-up)."""
    session[MFA_STATE] = "verified"
    session[MFA_AT] = time.time()


def mfa_is_fresh() -> bool:
    """True when the second factor was given within the step-up window, or the user has none."""
    given_at = session.get(MFA_AT)
    if isinstance(given_at, int | float) and \
            time.time() - given_at < current_app.config["MFA_STEP_UP_SECONDS"]:
        return True
    return not has_mfa(current_user.id)


def start_pending(user: User, remember: bool, target: str) -> None:
    """Password accepted: remember who is signing in until the second factor is given."""
    session.clear()
    g.pop("csrf_token", None)
    session[PENDING] = {"user_id": user.id, "generation": user.session_generation,
                        "at": time.time(), "remember": bool(remember), "next": target}


def pending_sign_in() -> tuple[User, dict] | None:
    """The user waiting to give their second factor, if the wait is recent and still valid."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int | float) \
            or time.time() - pending["at"] > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user_id"))
    if user is None or not user.active or user.session_generation != pending.get("generation"):
        return None
    return user, pending


def _restore_from_remember_cookie() -> None:
    """Sign in from the remember-me cookie when the session holds nobody."""
    if request.endpoint == "static" or "_user_id" in session:
        return
    value = request.cookies.get(current_app.config["REMEMBER_TOKEN_COOKIE"])
    if not value:
        return
    user = user_from_remember_token(value)
    if user is None:
        db.session.commit()  # an ended token is deleted
        g.remember_cookie = ""
        return
    session.clear()
    login_user(user, remember=False)
    # The token was made after a full sign-in, so the factor counts as given; but not
    # recently, so sensitive actions still ask for it.
    if has_mfa(user.id):
        session[MFA_STATE] = "verified"
    db.session.commit()


def _mfa_gate():
    """Send a privileged account that has not given a second factor to give or set one up."""
    if not current_app.config["REQUIRE_MFA"] or request.endpoint in GATE_EXEMPT \
            or request.blueprint == "api":
        return None
    if "_user_id" not in session or session.get(MFA_STATE) == "verified":
        return None
    user = current_user._get_current_object()  # read several times: one proxy lookup
    if not user.is_authenticated or user.role not in PRIVILEGED_ROLES:
        return None
    if has_mfa(user.id):
        return redirect(url_for("mfa.confirm", next=request.full_path.rstrip("?")))
    return redirect(url_for("mfa.enrol"))


def _write_remember_cookie(response):
    """Set or delete the remember-me cookie decided during the request."""
    value = g.pop("remember_cookie", None)
    if value is None:
        return response
    config = current_app.config
    name, secure = config["REMEMBER_TOKEN_COOKIE"], config["SESSION_COOKIE_SECURE"]
    if value:
        response.set_cookie(name, value, max_age=config["REMEMBER_TOKEN_DAYS"] * 86400,
                            path="/", secure=secure, httponly=True, samesite="Lax")
    else:
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="Lax")
    return response


def init_app(app: Flask) -> None:
    """Install the remember-me and second-factor hooks (in this order) on the app."""
    app.before_request(_restore_from_remember_cookie)
    app.before_request(_mfa_gate)
    app.after_request(_write_remember_cookie)
