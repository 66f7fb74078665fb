"""What signing in keeps: remember-me tokens, failed sign-in counters and second factors."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow


class RememberToken(db.Model):
    """One 'keep me signed in' cookie, created at one sign-in; only its SHA-256 is stored.

    The cookie holds ``<id>:<random>`` with 256 random bits, so a fast hash is enough.
    It stops working at ``expires_at``, at sign-out (the row is deleted), or when the
    account's sessions are ended (``session_generation`` no longer matches the user's).
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"),
                                               index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[datetime]
    session_generation: so.Mapped[int]


class LoginThrottle(db.Model):
    """Failed sign-ins of one account or client address in one fixed time window.

    ``key`` is "account:<hash of the typed email>" or "address:<client address>", so
    the table never holds what people typed. Shared by every app server through the
    database when Redis is not configured.
    """

    key: so.Mapped[str] = so.mapped_column(sa.String(100), primary_key=True)
    window_start: so.Mapped[datetime] = so.mapped_column(primary_key=True, index=True)
    failures: so.Mapped[int] = so.mapped_column(default=0)


class MfaCredential(db.Model):
    """A user's TOTP secret (encrypted with a key derived from SECRET_KEY).

    ``confirmed_at`` is empty while enrolment waits for a first code;
    ``last_used_step`` is the 30-second step of the last accepted code, so a code
    cannot be used twice.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"),
                                               unique=True)
    secret: so.Mapped[str] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    confirmed_at: so.Mapped[datetime | None]
    last_used_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)


class RecoveryCode(db.Model):
    """A single-use code for when the authenticator is lost; only its SHA-256 is stored."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"),
                                               index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    used_at: so.Mapped[datetime | None]
