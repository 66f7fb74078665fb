"""Assignments of courses to officers or units.

``AuditEntry`` and ``APPEND_ONLY_SQL`` moved to ``learning.audit.models``; they are
re-exported here for older imports.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.audit.models import APPEND_ONLY_SQL, AuditEntry  # noqa: F401  (re-export)
from learning.extensions import db
from learning.timeutil import utcnow

RECURRENCES = ("none", "months", "on_expiry")


class Assignment(db.Model):
    """A course an agency requires, by a due date, of some units or officers.

    ``recurrence``: "none" (once), "months" (again every ``every_months`` after each
    completion) or "on_expiry" (again when the certificate expires).
    """

    __table_args__ = (
        sa.CheckConstraint("recurrence IN ('none', 'months', 'on_expiry')", name="recurrence"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agency.id"), index=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"))
    due_on: so.Mapped[date]
    recurrence: so.Mapped[str] = so.mapped_column(sa.String(12), default="none")
    every_months: so.Mapped[int | None]
    created_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    active: so.Mapped[bool] = so.mapped_column(default=True)

    targets: so.Mapped[list[AssignmentTarget]] = so.relationship(
        back_populates="assignment", cascade="all, delete-orphan")


class AssignmentTarget(db.Model):
    """A whole unit (so new officers of the unit are included) or one officer."""

    __table_args__ = (
        sa.CheckConstraint("(unit_id IS NULL) <> (user_id IS NULL)", name="one_target"),
        sa.UniqueConstraint("assignment_id", "unit_id", "user_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assignment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assignment.id"), index=True)
    unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("unit.id"), index=True)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"),
                                                      index=True)

    assignment: so.Mapped[Assignment] = so.relationship(back_populates="targets")
