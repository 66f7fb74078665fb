"""Assignments of courses to officers or units, and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

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


class AuditEntry(db.Model):
    """A sensitive action: who did what to what. Rows are only ever added."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    agency_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("agency.id"), index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(60))
    target: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)


# The audit log is append-only in the database itself, not just in the app.
APPEND_ONLY_SQL = {
    "sqlite": [
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
    ],
}


@sa.event.listens_for(AuditEntry.__table__, "after_create")
def _append_only(table, connection, **_kw) -> None:
    for statement in APPEND_ONLY_SQL.get(connection.dialect.name, []):
        connection.execute(sa.text(statement))
