"""One progress row per officer and lesson, written only by its owner."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow


class LessonProgress(db.Model):
    """A lesson an officer marked complete, with the version and lesson hash it was read on."""

    __table_args__ = (sa.UniqueConstraint("user_id", "course_id", "lesson_slug"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    lesson_slug: so.Mapped[str] = so.mapped_column(sa.String(100))
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_version.id"))
    lesson_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    completed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
