"""An attempt at an assessment: what was drawn, what was saved, how it was graded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow

OPEN = "open"
SUBMITTED = "submitted"


class Attempt(db.Model):
    """One officer's attempt, pinned to the content version it was started on.

    ``answers`` maps question id to {"v": value, "s": sequence}: a save carries
    a sequence number and never replaces an answer saved with a higher one.
    ``revision`` grows with every write, so concurrent saves and submits use
    compare-and-set and exactly one submit grades the attempt.
    """

    __table_args__ = (
        sa.Index("uq_attempt_one_open", "user_id", "course_id", "assessment_slug", unique=True,
                 sqlite_where=sa.text("status = 'open'"),
                 postgresql_where=sa.text("status = 'open'")),
        sa.Index("ix_attempt_user_course", "user_id", "course_id"),
        sa.CheckConstraint("status IN ('open', 'submitted')", name="status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"))
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_version.id"))
    assessment_slug: so.Mapped[str] = so.mapped_column(sa.String(100))
    final: so.Mapped[bool] = so.mapped_column(default=False)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=OPEN)
    seed: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    jurisdiction: so.Mapped[str | None] = so.mapped_column(sa.String(8))  # drawn for
    question_ids: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    started_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    deadline: so.Mapped[datetime | None]
    answers: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    revision: so.Mapped[int] = so.mapped_column(default=0)
    submitted_at: so.Mapped[datetime | None]
    submitted_by: so.Mapped[str | None] = so.mapped_column(sa.String(12))  # learner | deadline
    pass_mark: so.Mapped[int]
    score: so.Mapped[float | None]
    max_score: so.Mapped[int | None]
    percent: so.Mapped[float | None]
    passed: so.Mapped[bool | None]
    results: so.Mapped[dict[str, float] | None] = so.mapped_column(sa.JSON)
    # False once a manager grants a fresh set of attempts: kept as history, not counted.
    counts_towards_limit: so.Mapped[bool] = so.mapped_column(default=True)
    # The language the questions were shown in (None: the course's own), so reviews match.
    language: so.Mapped[str | None] = so.mapped_column(sa.String(12))

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def saved_values(self) -> dict[str, Any]:
        """Question id -> saved answer value."""
        return {qid: entry["v"] for qid, entry in (self.answers or {}).items()}
