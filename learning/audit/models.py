"""The audit log table, append-only in the database itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow


class AuditEntry(db.Model):
    """A security-relevant event: who did what to what, from where, with what outcome.

    Rows are only ever added. ``id`` runs 1, 2, 3... without gaps and ``row_hash`` covers
    the row and ``prev_hash`` (the hash of the row before), so any change, removal or
    insertion shows up in ``flask audit verify``. Both are set when the row is flushed
    (``learning.audit.service``), never by callers.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    agency_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("agency.id"), index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(60))
    target: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    outcome: so.Mapped[str] = so.mapped_column(sa.String(10), default="success")
    address: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    row_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)


# The audit log is append-only in the database itself, not just in the app.
# (Migration 0004 creates these; 0011 adds TRUNCATE_SQL.)
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
# SQLite has no TRUNCATE: "DELETE FROM audit_entry" meets the delete trigger above.
TRUNCATE_SQL = {
    "postgresql": [
        "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
    ],
}


@sa.event.listens_for(AuditEntry.__table__, "after_create")
def _append_only(table, connection, **_kw) -> None:
    for statement in (APPEND_ONLY_SQL.get(connection.dialect.name, [])
                      + TRUNCATE_SQL.get(connection.dialect.name, [])):
        connection.execute(sa.text(statement))
