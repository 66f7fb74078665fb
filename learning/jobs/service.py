"""Start, run and look up background jobs: on RQ when ``REDIS_URL`` is set, else in-process.

Without Redis a job runs synchronously inside the request that starts it (chunked and
committed as it goes, exactly as a worker would run it) and the browser is then sent to
its page: one machine needs no worker process, and a crash leaves a job that
``flask jobs retry`` finishes without duplicating anything.
"""

from __future__ import annotations

import logging
import secrets

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from learning.accounts.models import User
from learning.extensions import db
from learning.jobs.handlers import KINDS
from learning.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job, JobFile
from learning.timeutil import utcnow

log = logging.getLogger("learning.jobs")
RECENT = 20


class JobError(ValueError):
    """A job that cannot be started or retried as asked."""


def new_token() -> str:
    """A form's idempotency token: the same form posted twice starts one job."""
    return secrets.token_hex(16)


def valid_token(token: str | None) -> bool:
    """32 lowercase hex characters, as ``new_token`` makes them."""
    return bool(token) and len(token) == 32 and all(c in "0123456789abcdef" for c in token)


def enqueue(kind: str, params: dict, owner: User | None, key: str) -> tuple[Job, bool]:
    """The job for (kind, key), created and started if new; (job, created)."""
    if kind not in KINDS:
        raise JobError(f"Unknown job kind {kind!r}.")
    existing = find_by_key(kind, key)
    if existing is not None:
        return existing, False
    job = Job(kind=kind, idempotency_key=key, params=params,
              owner_id=owner.id if owner else None,
              agency_id=owner.agency_id if owner else None, state=QUEUED)
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:  # the same click arrived twice at once: keep the first
        db.session.rollback()
        return find_by_key(kind, key), False
    dispatch(job)
    return job, True


def find_by_key(kind: str, key: str) -> Job | None:
    """The job a kind and idempotency key already started, if any."""
    return db.session.scalar(sa.select(Job).where(Job.kind == kind, Job.idempotency_key == key))


def dispatch(job: Job) -> None:
    """Hand the job to RQ (``REDIS_URL``), or run it here and now."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        run_job(job.id)
        return
    from learning.jobs.worker import QueueUnavailable, enqueue_on_redis

    try:
        enqueue_on_redis(url, job.id, current_app.config)
    except QueueUnavailable as exc:  # say so on the job's page; the app stays up
        log.warning("Could not queue job %s: %s", job.id, exc)
        fail(job, f"The job queue is unreachable ({exc}); retry later.")


def fail(job: Job, message: str) -> None:
    """Mark a job failed with a message for its page."""
    job.state, job.error, job.finished_at = FAILED, message[:2000], utcnow()
    db.session.commit()


def run_job(job_id: int, retries_left: int = 0, reraise: bool = False) -> Job | None:
    """Run a job to the end (resuming where an earlier run stopped); a done job is left alone.

    On an error the job goes back to ``queued`` when RQ will retry it, else ``failed``.
    """
    job = db.session.get(Job, job_id)
    if job is None or job.state == DONE:
        return job
    job.state, job.started_at, job.error = RUNNING, utcnow(), None
    job.attempts += 1
    db.session.commit()
    try:
        KINDS[job.kind].run(job)
    except Exception as exc:
        db.session.rollback()
        log.exception("Job %s (%s) failed on attempt %s", job_id, job.kind, job.attempts)
        job = db.session.get(Job, job_id)
        job.state = QUEUED if retries_left else FAILED
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
        job.finished_at = None if retries_left else utcnow()
        db.session.commit()
        if reraise:
            raise
        return job
    job.state, job.finished_at = DONE, utcnow()
    db.session.commit()
    return job


def retry(job: Job) -> Job:
    """Start an unfinished or failed job again; it resumes from its last committed chunk."""
    if job.state == DONE:
        raise JobError(f"Job {job.id} is done; there is nothing to retry.")
    job.state, job.error, job.finished_at = QUEUED, None, None
    db.session.commit()
    dispatch(job)
    return job


DIED, LOST, GAVE_UP = "died", "lost", "gave_up"  # why RQ will not run a job again


def _reason(cause: str, attempts: int, last_error: str | None) -> str:
    """What the job's page says happened, in the current locale."""
    if cause == DIED:
        return _("The worker running this job stopped during its last attempt (attempt "
                 "%(n)d). Retry it to resume where it stopped.", n=attempts)
    if cause == LOST:
        return _("The job queue has no record of this job any more (Redis was emptied or "
                 "restarted), so nothing will run it. Retry it to start it again.")
    if cause == GAVE_UP:
        return _("The job queue gave up on this job after attempt %(n)d.", n=attempts) + (
            f" {last_error}" if last_error else "")
    return _("The last attempt (attempt %(n)d) failed: %(error)s", n=attempts, error=cause)


def _owners_language(job: Job) -> str:
    """The language of the job's owner (the job's texts are theirs, whoever looks)."""
    owner = db.session.get(User, job.owner_id) if job.owner_id else None
    return owner.language if owner and owner.language else "en"


def requeued_after_worker_died(job: Job) -> bool:
    """Show a running job whose worker died, and which RQ queued again, as waiting, with
    why. Compare-and-set on the attempt count: if a worker has started the new attempt
    meanwhile (it counts one more), its state is left alone."""
    with force_locale(_owners_language(job)):
        note = _("The worker running this job stopped during attempt %(n)d. The job is "
                 "queued again and resumes where it stopped as soon as a job worker runs.",
                 n=job.attempts)
    changed = db.session.execute(
        sa.update(Job).where(Job.id == job.id, Job.state == RUNNING,
                             Job.attempts == job.attempts)
        .values(state=QUEUED, error=note)).rowcount
    db.session.commit()
    db.session.refresh(job)
    return changed == 1


def give_up(job_id: int, cause: str) -> Job | None:
    """Mark an unfinished job failed because RQ will not run it again, saying why.

    ``cause`` is DIED (its worker stopped), LOST (RQ forgot it), GAVE_UP (RQ marked it
    failed) or the last try's error. The reason is in the owner's language, like the
    job's summary.
    """
    job = db.session.get(Job, job_id)
    if job is None or job.state not in (QUEUED, RUNNING):
        return job
    with force_locale(_owners_language(job)):
        reason = _reason(cause, job.attempts, job.error)
    log.warning("Job %s (%s) given up: %s", job.id, job.kind, reason)
    fail(job, reason)
    return job


def settle(job: Job) -> Job:
    """An unfinished job whose RQ job failed or is gone is failed: nothing will run it.
    A running job whose worker died is queued again (or failed, once out of retries).

    The page and ``flask jobs list`` call this, so a job RQ lost (Redis emptied, or its
    failure not recorded) stops showing as waiting or running forever, and a job whose
    worker was killed does not show as running while no worker is left to notice.
    """
    url = current_app.config.get("REDIS_URL")
    if not url or job.state not in (QUEUED, RUNNING):
        return job
    from learning.jobs.worker import QueueUnavailable, recover_abandoned, rq_status

    try:
        status = rq_status(url, job.id)
        if status == "started" and job.state == RUNNING:
            recover_abandoned(url)  # nothing happens while its worker is alive
            status = rq_status(url, job.id)
            if status != "started":
                db.session.refresh(job)  # on_failure may have failed it meanwhile
    except QueueUnavailable as exc:  # change nothing: the queue may come back
        log.warning("Could not look up job %s on the queue: %s", job.id, exc)
        return job
    if status == "queued" and job.state == RUNNING:
        requeued_after_worker_died(job)
    elif status is None:
        give_up(job.id, LOST)
    elif status in ("failed", "stopped", "canceled"):
        give_up(job.id, GAVE_UP)
    return job


def may_see(viewer: User, job: Job) -> bool:
    """Admins see every job. Anyone else sees a job they started while they still hold the
    role its kind needs and belong to the agency it ran for: a manager who is demoted or
    moved keeps no way into the exports and certificate bundles of the old role."""
    if viewer.role == "admin":
        return True
    kind = KINDS.get(job.kind)
    return (job.owner_id == viewer.id and kind is not None and viewer.has_role(kind.role)
            and job.agency_id == viewer.agency_id)


def visible_job(viewer: User, job_id: int) -> Job | None:
    """The job if ``may_see`` allows it; None otherwise."""
    job = db.session.get(Job, job_id)
    return job if job is not None and may_see(viewer, job) else None


def recent_jobs(viewer: User, limit: int = RECENT) -> list[Job]:
    """The viewer's own most recent jobs they may still see, newest first."""
    jobs = db.session.scalars(sa.select(Job).where(Job.owner_id == viewer.id)
                              .order_by(Job.created_at.desc(), Job.id.desc()).limit(limit))
    return [job for job in jobs if may_see(viewer, job)]


def all_jobs(limit: int = 100) -> list[Job]:
    """The most recent jobs of everyone (for ``flask jobs list``)."""
    return list(db.session.scalars(sa.select(Job).order_by(Job.id.desc()).limit(limit)))


def result_file(job: Job) -> JobFile | None:
    """The job's result file, once it is done."""
    if job.state != DONE or not job.result_name:
        return None
    return db.session.scalar(sa.select(JobFile).where(
        JobFile.job_id == job.id, JobFile.name == job.result_name)
        .options(sa.orm.undefer(JobFile.data)))
