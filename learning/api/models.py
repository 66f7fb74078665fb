"""API tokens: one per HR system of an agency, stored only as a hash, each with an expiry."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow


class ApiToken(db.Model):
    """A bearer token that reads one agency's data; the raw token is shown once, never stored.

    ``token_hash`` is the SHA-256 of the raw token (the token carries 256 random bits, so
    a fast hash is enough); ``prefix`` is its first characters, to tell tokens apart.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agency.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    prefix: so.Mapped[str] = so.mapped_column(sa.String(16))
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    revoked_at: so.Mapped[datetime | None]
    last_used_at: so.Mapped[datetime | None]
    # Set for every token (migration 0033 gave older ones 90 days); none is refused too.
    expires_at: so.Mapped[datetime | None]

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def expired(self, now: datetime) -> bool:
        """True once the token's time is up (or it never had an expiry date)."""
        return self.expires_at is None or self.expires_at <= now
