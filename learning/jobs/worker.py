"""RQ glue: the queue, the function a worker runs, and a worker whose heartbeat is ours.

The worker is RQ's ``SimpleWorker`` (no fork): the job runs in the worker process with
the app context of ``flask jobs worker``, so killing the worker kills its job too. Its
registration in RQ's started-job registry lives ``JOB_HEARTBEAT_SECONDS`` and every
committed chunk renews it; when a worker dies (SIGKILL, lost machine) the entry runs
out, and the next maintenance pass of any live worker (every ``JOB_MAINTENANCE_SECONDS``)
requeues the job through its ``Retry`` (at most ``JOB_RETRIES`` times); with no live
worker, the job's page makes that pass (``recover_abandoned``). The job then resumes
from its last committed chunk. When RQ gives up (the last try raised, or its
worker died), ``on_failure`` marks our row failed with a reason, so its page stops
waiting; ``rq_status`` lets the page and ``flask jobs list`` notice a job RQ lost.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue, Retry, SimpleWorker, get_current_job
from rq.exceptions import AbandonedJobError, NoSuchJobError
from rq.job import Job as RQJob
from rq.registry import StartedJobRegistry

from learning.jobs import steps

QUEUE_NAME = "waymark"


class QueueUnavailable(RuntimeError):
    """Redis could not take the job."""


def rq_job_id(job_id: int) -> str:
    """RQ's id for our job: the same number, so a re-queue replaces rather than adds."""
    return f"waymark-job-{job_id}"


def queue_for(url: str) -> Queue:
    """The jobs queue on the Redis at ``url``."""
    return Queue(QUEUE_NAME, connection=Redis.from_url(url))


def enqueue_on_redis(url: str, job_id: int, config: Mapping[str, Any]) -> None:
    """Put our job on the RQ queue, retried if it fails or its worker dies."""
    try:
        queue_for(url).enqueue(
            "learning.jobs.worker.perform", job_id, job_id=rq_job_id(job_id),
            retry=Retry(max=int(config.get("JOB_RETRIES", 3))),
            job_timeout=int(config.get("JOB_TIMEOUT", 3600)), result_ttl=86400,
            failure_ttl=7 * 86400, on_failure=Callback(on_failure))
    except RedisError as exc:
        raise QueueUnavailable(type(exc).__name__) from exc


def rq_status(url: str, job_id: int) -> str | None:
    """RQ's status of our job ("queued", "started", "failed", ...), or None if RQ has none."""
    try:
        return RQJob.fetch(rq_job_id(job_id), connection=Redis.from_url(url)).get_status()
    except NoSuchJobError:
        return None
    except RedisError as exc:
        raise QueueUnavailable(type(exc).__name__) from exc


def recover_abandoned(url: str) -> None:
    """The maintenance pass a live worker makes every ``JOB_MAINTENANCE_SECONDS``, made
    from a job's page: a job whose worker died (its registration ran out) is queued again
    through its ``Retry``, or failed when no retry is left (``on_failure`` then marks our
    row). It takes RQ's maintenance lock, so it never runs beside a worker's own pass."""
    try:
        queue = queue_for(url)
        if not queue.acquire_maintenance_lock():
            return  # a worker (or another page) is doing it now
        try:
            StartedJobRegistry(queue.name, connection=queue.connection,
                               job_class=queue.job_class, serializer=queue.serializer).cleanup()
        finally:
            queue.release_maintenance_lock()
    except RedisError as exc:
        raise QueueUnavailable(type(exc).__name__) from exc


def on_failure(rq_job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback (a failed try, or a dead worker's job found by maintenance):
    once no retry is left, our row is marked failed, since no run of ours will do it."""
    from learning.extensions import db
    from learning.jobs.service import DIED, give_up

    if rq_job.retries_left:  # RQ tries again
        return
    db.session.rollback()  # whatever the failed try left half-done is not ours to commit
    died = exc_type is None or issubclass(exc_type, AbandonedJobError)
    give_up(int(rq_job.args[0]), DIED if died else f"{exc_type.__name__}: {exc_value}"[:1000])


DATABASE_RETRIES = 6  # about a minute of waiting in all (1, 2, 4, 8, 16, 30 s)


def perform(job_id: int, pause=time.sleep) -> None:
    """What the worker runs: our job, re-raising errors so RQ retries while it may.

    A lost database connection (PostgreSQL restarting) is waited out here, with fresh
    connections, rather than handed to RQ: the failure could not even be recorded while
    the database was away. The job resumes from its last committed chunk.
    """
    from sqlalchemy.exc import InterfaceError, OperationalError

    from learning.extensions import db
    from learning.jobs.service import run_job

    current = get_current_job()
    retries_left = (current.retries_left or 0) if current is not None else 0
    for attempt in range(DATABASE_RETRIES + 1):
        try:
            run_job(job_id, retries_left=retries_left, reraise=True)
            return
        except (OperationalError, InterfaceError):
            db.session.remove()
            db.engine.dispose()
            if attempt == DATABASE_RETRIES:
                raise
            pause(min(2 ** attempt, 30))


class WaymarkWorker(SimpleWorker):
    """A SimpleWorker whose job registration lives ``heartbeat_seconds`` between chunks."""

    heartbeat_seconds = 120

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        """How long a job may go without a committed chunk before it counts as abandoned."""
        return self.heartbeat_seconds

    def beat(self) -> None:
        """Renew the running job's registration (called after each committed chunk)."""
        job, execution = self.get_current_job(), self.execution
        if job is not None and execution is not None:
            self.maintain_heartbeats(job, execution)

    def execute_job(self, job, queue) -> None:
        """Run one job with chunk heartbeats on, and a fresh database session after it."""
        from learning.extensions import db

        steps.set_heartbeat(self.beat)
        try:
            super().execute_job(job, queue)
        finally:
            steps.set_heartbeat(None)
            db.session.remove()


def make_worker(url: str, config: Mapping[str, Any]) -> WaymarkWorker:
    """A worker on our queue, timed by the app's configuration."""
    worker = WaymarkWorker(
        [QUEUE_NAME], connection=Redis.from_url(url),
        maintenance_interval=int(config.get("JOB_MAINTENANCE_SECONDS", 60)),
        worker_ttl=int(config.get("JOB_WORKER_TTL", 60)))
    worker.heartbeat_seconds = int(config.get("JOB_HEARTBEAT_SECONDS", 120))
    return worker
