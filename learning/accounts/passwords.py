"""Changing a password, and resetting a forgotten one through a link e-mailed to its owner.

A reset link is single-use, lasts an hour and is stored only as its SHA-256. Setting
a password in any way ends every session of the account and tells its owner.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from learning.accounts.models import PasswordReset, User
from learning.accounts.notices import (
    queue_password_changed,
    queue_reset_link,
    queue_welcome_link,
)
from learning.accounts.service import (
    AccountError,
    claim_link,
    find_user_by_email,
    password_matches,
    set_password,
)
from learning.agency.service import record_audit
from learning.extensions import db
from learning.timeutil import utcnow

RESET_LIFETIME = timedelta(hours=1)
WELCOME_LIFETIME = timedelta(days=3)  # a new account's first link: people read mail later
RESETS_PER_HOUR = 3  # per account: a stranger cannot flood someone's inbox


class ResetError(ValueError):
    """A reset link that cannot be used, with a message for its holder."""

    def __init__(self, message: str, status: int = 410) -> None:
        super().__init__(message)
        self.status = status


def token_hash(token: str) -> str:
    """What is stored of a reset token: a leaked table opens no account."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def reset_path(token: str) -> str:
    """Where a reset link points (the token is in the path, never a query string)."""
    return f"/reset/{token}"


def _revoke_pending(user_id: int, now: datetime) -> None:
    """Withdraw an account's unused reset links, so at most one works at a time."""
    db.session.execute(sa.update(PasswordReset).where(
        PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None),
        PasswordReset.revoked_at.is_(None)).values(revoked_at=now))


def send_reset_link(user: User, requested_by: User | None = None, *,
                    welcome: bool = False) -> bool:
    """E-mail the owner a new reset link; False (nothing sent) for a closed or flooded account.

    ``requested_by`` is the admin who pressed the button, None for the public form.
    The link goes only to the account's own email and is never shown to anyone.
    ``welcome`` sends a new account's set-password link instead (it lasts three days).
    """
    now = utcnow()
    if not user.active or user.purged_at is not None:
        record_audit(requested_by, "password.reset.request", user.email,
                     {"reason": "inactive"}, agency_id=user.agency_id, outcome="denied")
        db.session.commit()
        return False
    recent = db.session.scalar(sa.select(sa.func.count()).select_from(PasswordReset).where(
        PasswordReset.user_id == user.id, PasswordReset.created_at > now - timedelta(hours=1)))
    if recent >= RESETS_PER_HOUR:
        record_audit(requested_by, "password.reset.request", user.email,
                     {"reason": "too many requests"}, agency_id=user.agency_id,
                     outcome="denied")
        db.session.commit()
        return False
    _revoke_pending(user.id, now)
    token = secrets.token_urlsafe(32)
    lifetime = WELCOME_LIFETIME if welcome else RESET_LIFETIME
    reset = PasswordReset(user_id=user.id, token_hash=token_hash(token),
                          expires_at=now + lifetime, created_at=now,
                          requested_by=requested_by.id if requested_by else None)
    db.session.add(reset)
    db.session.flush()
    if welcome:
        queue_welcome_link(user, reset_path(token), lifetime.days)
    else:
        queue_reset_link(user, reset_path(token), int(lifetime.total_seconds() // 60))
    record_audit(requested_by, "password.reset.request", user.email,
                 {"reset_id": reset.id, "by_admin": requested_by is not None,
                  "welcome": welcome}, agency_id=user.agency_id)
    db.session.commit()
    return True


def request_reset(email: str) -> None:
    """The public "forgot password" form: the same outcome whether or not the email is known."""
    user = find_user_by_email(email)
    if user is None:
        record_audit(None, "password.reset.request", "", {"reason": "unknown email"},
                     outcome="failure")
        db.session.commit()
        return
    send_reset_link(user)


def check_reset(token: str) -> PasswordReset:
    """The reset this token opens, or ``ResetError`` saying why it cannot be used."""
    reset = db.session.scalar(sa.select(PasswordReset).where(
        PasswordReset.token_hash == token_hash(token)))
    if reset is None:
        raise ResetError(_("This reset link is not valid. Check that you copied all of it, "
                           "or ask for a new one."), status=404)
    if reset.used_at is not None:
        raise ResetError(_("This reset link has already been used. Ask for a new one if you "
                           "need to."))
    if reset.revoked_at is not None:
        raise ResetError(_("This reset link was replaced by a newer one. Use the latest link "
                           "we sent you."))
    if reset.expires_at <= utcnow():
        raise ResetError(_("This reset link has expired. Ask for a new one."))
    user = db.session.get(User, reset.user_id)
    if user is None or not user.active:
        raise ResetError(_("This account is deactivated. Ask your training coordinator."))
    return reset


def complete_reset(token: str, password: str) -> User:
    """Set a new password through a valid link, used up with one conditional UPDATE.

    Every session of the account ends, and its owner is told by e-mail.
    """
    reset = check_reset(token)
    user = db.session.get(User, reset.user_id)
    set_password(user, password)
    now = utcnow()
    if not claim_link(PasswordReset, reset.id, now):
        db.session.rollback()
        raise ResetError(_("This reset link has already been used. Ask for a new one if you "
                           "need to."))
    _revoke_pending(user.id, now)
    queue_password_changed(user)
    record_audit(user, "password.reset.complete", user.email, {"reset_id": reset.id},
                 agency_id=user.agency_id)
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """A signed-in user replaces their password; every session of the account ends."""
    if not password_matches(user, current):
        record_audit(user, "password.change", user.email, outcome="failure")
        db.session.commit()
        raise AccountError(_("The current password is not correct."))
    if new == current:  # nothing would change, yet every other session would end
        raise AccountError(_("The new password is the same as the current one: choose "
                             "another."))
    set_password(user, new)
    queue_password_changed(user)
    record_audit(user, "password.change", user.email)
    db.session.commit()


def set_password_by_operator(user: User, password: str) -> None:
    """``flask users set-password``: an operator on the server sets a password (audited)."""
    set_password(user, password)
    queue_password_changed(user)
    record_audit(None, "password.set", user.email, {"via": "command line"},
                 agency_id=user.agency_id)
    db.session.commit()
