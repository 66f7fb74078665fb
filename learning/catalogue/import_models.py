"""An uploaded course zip between its preview and its confirmation."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow


class PendingCourseImport(db.Model):
    """A checked zip waiting for the trainer to confirm it.

    Kept in the database, not on disk, because an import writes nothing outside
    its temporary folder; deleted once published or replaced, and after a day.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    uploaded_by: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    course_slug: so.Mapped[str] = so.mapped_column(sa.String(100))
    base_version_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("course_version.id"))  # current when previewed: confirm refuses otherwise
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    content: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
