"""API tokens: agency managers create and revoke them; every API request presents one.

Only a hash is stored; the raw token is shown once, when it is created. The queries a
token may run are in ``learning.api.queries``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from learning.accounts.models import User
from learning.agency.service import record_audit
from learning.api.models import ApiToken
from learning.extensions import db
from learning.timeutil import utcnow

TOKEN_PREFIX = "wm_"
PREFIX_SHOWN = 10  # "wm_" and 7 random characters: enough to tell tokens apart
LAST_USED_EVERY = timedelta(minutes=1)  # write last_used_at at most this often
# How long a new token may live, in days: a leaked or forgotten token stops on its own.
LIFETIMES = (30, 90, 180, 365)
EXPIRING_SOON = timedelta(days=30)  # the tokens page points these out


class TokenError(ValueError):
    """A token request a manager cannot make, with a message for them."""


class TokenExpired(Exception):
    """A real token past its expiry date (``expires_at``, or None if it never had one)."""

    def __init__(self, expires_at: datetime | None) -> None:
        super().__init__(expires_at)
        self.expires_at = expires_at


def hash_token(raw: str) -> str:
    """SHA-256 of a raw token, as stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


def can_manage_tokens(user: User) -> bool:
    """Only agency-wide managers: a token reads the whole agency, not one unit."""
    return user.has_role("manager") and user.agency_id is not None and user.unit_id is None


def tokens_of(agency_id: int) -> list[tuple[ApiToken, str | None]]:
    """An agency's tokens with their creator's name, active first, newest first."""
    return [(token, creator) for token, creator in db.session.execute(
        sa.select(ApiToken, User.display_name).outerjoin(User, User.id == ApiToken.created_by)
        .where(ApiToken.agency_id == agency_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc()))]


def create_token(manager: User, name: str, days: int = 365,
                 now: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for the manager's agency that works for ``days`` (one of
    ``LIFETIMES``); the raw token is returned this once only."""
    if not can_manage_tokens(manager):
        raise TokenError("Only a manager of a whole agency can create API tokens.")
    # One line: the name goes into e-mail subjects (a line break there would be a header).
    name = " ".join(name.split())
    if not name:
        raise TokenError("Give the token a name, such as the system that will use it.")
    if days not in LIFETIMES:
        raise TokenError("Choose how long the token works: 30, 90, 180 or 365 days.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(agency_id=manager.agency_id, name=name[:100], token_hash=hash_token(raw),
                     prefix=raw[:PREFIX_SHOWN], created_by=manager.id,
                     expires_at=(now or utcnow()).replace(microsecond=0) + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    record_audit(manager, "api_token.create", f"api token {token.id}",
                 {"name": token.name, "prefix": token.prefix,
                  "expires_at": token.expires_at.isoformat()})
    db.session.commit()
    return token, raw


def revoke_token(manager: User, token_id: int, now: datetime | None = None) -> ApiToken | None:
    """Revoke one of the manager's agency's tokens (None if it is not theirs)."""
    if not can_manage_tokens(manager):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(
        ApiToken.id == token_id, ApiToken.agency_id == manager.agency_id))
    if token is None or token.revoked_at is not None:
        return token
    token.revoked_at = now or utcnow()
    record_audit(manager, "api_token.revoke", f"api token {token.id}",
                 {"name": token.name, "prefix": token.prefix})
    db.session.commit()
    return token


def authenticate(raw: str, now: datetime | None = None) -> ApiToken | None:
    """The active token for a raw token, or None; every input costs one hash and one lookup.

    Raises ``TokenExpired`` for a token whose time is up, so its caller can say so.
    """
    digest = hash_token(raw)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest) \
            or token.revoked_at is not None:
        return None
    now = now or utcnow()
    if token.expired(now):
        raise TokenExpired(token.expires_at)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        db.session.commit()
    return token
