"""A background job and the files it produces: progress and results live in the database,
so any app server can show them whichever worker ran the job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)


class Job(db.Model):
    """One piece of slow work: what, for whom, how far it got, and what came out.

    ``idempotency_key`` is unique per kind, so a double-clicked button (the same form
    token twice) finds the job the first click created instead of starting another.
    """

    __table_args__ = (sa.UniqueConstraint("kind", "idempotency_key"),
                      sa.Index("ix_job_owner_id_created_at", "owner_id", "created_at"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    idempotency_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    owner_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    agency_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("agency.id"))
    params: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default=QUEUED)
    done: so.Mapped[int] = so.mapped_column(default=0)
    total: so.Mapped[int | None]
    # Where a re-run may resume: the last item finished (items are done in key order).
    cursor: so.Mapped[int] = so.mapped_column(default=0)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    summary: so.Mapped[str | None] = so.mapped_column(sa.Text)
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    result_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    started_at: so.Mapped[datetime | None]
    finished_at: so.Mapped[datetime | None]

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)


class JobFile(db.Model):
    """A file a job wrote: its result (a zip, a spreadsheet) or a part kept between runs
    (one PDF per certificate), unique per job and name so a re-run overwrites nothing twice."""

    __table_args__ = (sa.UniqueConstraint("job_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("job.id"))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    mimetype: so.Mapped[str] = so.mapped_column(sa.String(100))
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary, deferred=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
