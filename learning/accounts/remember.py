"""Remember-me tokens: one per sign-in, stored hashed, expiring, ended with the sessions."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from learning.accounts.auth_models import RememberToken
from learning.accounts.models import User
from learning.extensions import db
from learning.timeutil import utcnow

COOKIE_VALUE = re.compile(r"([0-9]{1,9}):([A-Za-z0-9_-]{20,100})")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_remember_token(user: User, days: int, now: datetime | None = None) -> str:
    """A new token for this sign-in; returns the cookie value "<id>:<secret>" (caller commits).

    The user's expired and ended tokens are deleted on the way, so the table stays small.
    """
    now = now or utcnow()
    db.session.execute(sa.delete(RememberToken).where(
        RememberToken.user_id == user.id,
        sa.or_(RememberToken.expires_at <= now,
               RememberToken.session_generation != user.session_generation)))
    secret = secrets.token_urlsafe(32)
    token = RememberToken(user_id=user.id, token_hash=_hash(secret), created_at=now,
                          expires_at=now + timedelta(days=days),
                          session_generation=user.session_generation)
    db.session.add(token)
    db.session.flush()
    return f"{token.id}:{secret}"


def _matching_token(value: str | None) -> RememberToken | None:
    """The token a cookie value names, when its secret matches (compared in constant time)."""
    match = COOKIE_VALUE.fullmatch(value or "")
    if match is None:
        return None
    token = db.session.get(RememberToken, int(match.group(1)))
    if token is None or not hmac.compare_digest(token.token_hash, _hash(match.group(2))):
        return None
    return token


def user_from_remember_token(value: str | None, now: datetime | None = None) -> User | None:
    """The active user a remember-me cookie signs in, or None.

    A token that has expired, or whose account's sessions were ended since it was made,
    is deleted (the caller commits); a wrong secret deletes nothing, so guessing cannot
    sign anyone out.
    """
    token = _matching_token(value)
    if token is None:
        return None
    user = db.session.get(User, token.user_id)
    if (token.expires_at <= (now or utcnow()) or user is None or not user.active
            or token.session_generation != user.session_generation):
        db.session.delete(token)
        return None
    return user


def forget_remember_token(value: str | None) -> None:
    """Delete the token a cookie names, at sign-out (the caller commits)."""
    token = _matching_token(value)
    if token is not None:
        db.session.delete(token)
