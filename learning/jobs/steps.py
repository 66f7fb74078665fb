"""What a job handler calls between chunks: commit progress, beat the heart, keep files.

Progress is committed after each chunk, so the page shows it and a re-run after a crash
resumes from ``Job.cursor`` instead of the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from learning.extensions import db
from learning.jobs.models import Job, JobFile

_heartbeat: Callable[[], None] | None = None


class InjectedCrash(RuntimeError):
    """Raised by the test hook ``JOB_CRASH_AFTER_ITEMS`` to stop a job half-way."""


def set_heartbeat(beat: Callable[[], None] | None) -> None:
    """Called by the RQ worker: after each chunk, tell Redis the job is still alive."""
    global _heartbeat
    _heartbeat = beat


def advance(job: Job, done: int, total: int | None = None, cursor: int | None = None) -> None:
    """Record how far the job got (committed), and that its worker is alive."""
    job.done = done
    if total is not None:
        job.total = total
    if cursor is not None:
        job.cursor = cursor
    db.session.commit()
    if _heartbeat is not None:
        _heartbeat()


def chunk_size() -> int:
    """Items per committed chunk (``JOB_CHUNK``)."""
    return max(1, int(current_app.config.get("JOB_CHUNK", 50)))


def item_done(items_this_run: int) -> None:
    """Test hooks, off unless configured: a pause per item, or a crash after N items."""
    delay = float(current_app.config.get("JOB_ITEM_DELAY", 0) or 0)
    if delay:
        time.sleep(delay)
    crash_after = int(current_app.config.get("JOB_CRASH_AFTER_ITEMS", 0) or 0)
    if crash_after and items_this_run >= crash_after:
        raise InjectedCrash(f"crash injected after {items_this_run} items")


def has_file(job: Job, name: str) -> bool:
    """True when the job already stored a file of this name (an earlier run made it)."""
    return db.session.scalar(sa.select(JobFile.id).where(
        JobFile.job_id == job.id, JobFile.name == name)) is not None


def put_file(job: Job, name: str, mimetype: str, data: bytes) -> None:
    """Store (or replace) one file of the job; the caller commits."""
    db.session.execute(sa.delete(JobFile).where(JobFile.job_id == job.id, JobFile.name == name))
    db.session.add(JobFile(job_id=job.id, name=name, mimetype=mimetype, data=data))


def parts(job: Job, prefix: str) -> list[JobFile]:
    """The job's stored parts under a name prefix, in name order."""
    return list(db.session.scalars(sa.select(JobFile).where(
        JobFile.job_id == job.id, JobFile.name.startswith(prefix, autoescape=True))
        .order_by(JobFile.name).options(sa.orm.undefer(JobFile.data))))


def drop_parts(job: Job, prefix: str) -> None:
    """Delete the job's parts under a prefix once the result holds them; the caller commits."""
    db.session.execute(sa.delete(JobFile).where(
        JobFile.job_id == job.id, JobFile.name.startswith(prefix, autoescape=True)))
