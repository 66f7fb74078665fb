"""Staff: invitations by which officers set a password, and uploads awaiting confirmation."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow


class Invitation(db.Model):
    """A single-use, expiring link for one officer; only the SHA-256 of its token is kept.

    A newer invitation, an accepted one or deactivation revokes the officer's other
    pending invitations (``revoked_at``); rows are kept as history.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    expires_at: so.Mapped[datetime]
    used_at: so.Mapped[datetime | None]
    revoked_at: so.Mapped[datetime | None]
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class PendingStaffImport(db.Model):
    """An uploaded staff CSV between its preview and its confirmation.

    Kept on the server because a 5 MB file does not fit in a form field or a
    session cookie; deleted once applied or replaced, and after a day at most.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agency.id"), index=True)
    uploaded_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    content: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
