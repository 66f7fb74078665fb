"""Messages to an account's owner (reset links, "your password was changed") via the outbox.

They go through the same outbox as reminders, so ``flask notify send`` delivers them
over SMTP (or to the log) and the address is always the account's own email.
"""

from __future__ import annotations

import secrets

from flask_babel import force_locale
from flask_babel import gettext as _

from learning.accounts.models import User
from learning.agency.reminders_models import Notification
from learning.core.sealed import seal
from learning.core.urls import base_url
from learning.extensions import db
from learning.languages.service import language_of

PASSWORD_RESET = "password_reset"
PASSWORD_CHANGED = "password_changed"
WELCOME = "welcome"


def public_url(path: str) -> str:
    """An absolute link on the configured WAYMARK_BASE_URL, never on the Host header."""
    return base_url() + path


def _queue(user: User, kind: str, subject: str, body: str, *, holds_link: bool = False
           ) -> Notification:
    """Add one message for the user to the outbox (the caller commits); a body holding a
    live link is sealed until it is sent (``learning.core.sealed``)."""
    notification = Notification(user_id=user.id, kind=kind,
                                 dedupe_key=f"{kind}:{user.id}:{secrets.token_hex(16)}",
                                 subject=subject, body=seal(body) if holds_link else body)
    db.session.add(notification)
    return notification


def queue_reset_link(user: User, path: str, minutes: int) -> Notification:
    """E-mail the owner a password-reset link (the caller commits)."""
    with force_locale(language_of(user)):
        subject = _("Reset your Waymark password")
        body = (_("Hello %(name)s,", name=user.display_name) + "\n\n"
                + _("Someone asked to reset the password of your Waymark account. To choose "
                    "a new password, open this link within %(n)d minutes:", n=minutes)
                + "\n\n" + public_url(path) + "\n\n"
                + _("The link works once. If you did not ask for it, ignore this message: "
                    "your password stays as it is.") + "\n")
    return _queue(user, PASSWORD_RESET, subject, body, holds_link=True)


def queue_welcome_link(user: User, path: str, days: int) -> Notification:
    """E-mail a new account's owner the link to choose their first password (the caller commits)."""
    with force_locale(language_of(user)):
        subject = _("Your Waymark account is ready")
        body = (_("Hello %(name)s,", name=user.display_name) + "\n\n"
                + _("An administrator created a Waymark account for you. To choose your "
                    "password and sign in, open this link within %(n)d days:", n=days)
                + "\n\n" + public_url(path) + "\n\n"
                + _("The link works once. If it has expired, use \"Forgot your password?\" on "
                    "the sign-in page to get a new one.") + "\n")
    return _queue(user, WELCOME, subject, body, holds_link=True)


def queue_password_changed(user: User) -> Notification:
    """Tell the owner that their password was changed and every session ended."""
    with force_locale(language_of(user)):
        subject = _("Your Waymark password was changed")
        body = (_("Hello %(name)s,", name=user.display_name) + "\n\n"
                + _("The password of your Waymark account was just changed, and every device "
                    "signed in to it was signed out.") + "\n\n"
                + _("If you did not do this, reset your password now from the sign-in page "
                    "and tell your training coordinator.") + "\n\n"
                + public_url("/login") + "\n")
    return _queue(user, PASSWORD_CHANGED, subject, body)
