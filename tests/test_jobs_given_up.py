"""Jobs RQ gives up on: the last try dies where our run cannot record it, the worker dies
on the last try, or the queue loses the job. Each ends ``failed`` with a readable reason
(so its page stops refreshing), and the page's button or ``flask jobs retry`` restarts it."""

from __future__ import annotations

import dataclasses

import pytest
from redis import Redis
from rq.exceptions import AbandonedJobError
from rq.job import JobStatus

from learning.accounts.models import User
from learning.extensions import db
from learning.jobs import handlers, worker
from learning.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job
from learning.jobs.service import enqueue

EXPORT = {"format": "csv", "filters": {}}


@pytest.fixture
def redis_app(app, fresh_redis):
    """The app on a throwaway Redis, RQ retrying a failed job once."""
    app.config.update(REDIS_URL=fresh_redis, JOB_RETRIES=1)
    return app


def work_off(url: str) -> None:
    """Run the queue empty in this process (so a patched handler is the one that runs)."""
    worker.make_worker(url, {"JOB_MAINTENANCE_SECONDS": 600}).work(burst=True,
                                                                    with_scheduler=False)
    db.session.expire_all()


def always_dies(job):
    """A try that never gets to record its failure, like a worker killed mid-job."""
    raise SystemExit("worker process killed")


def rq_job(url: str, job_id: int):
    return worker.queue_for(url).fetch_job(worker.rq_job_id(job_id))


def test_a_job_whose_every_try_dies_is_failed_then_retried_from_its_page(
        redis_app, client, login_as, make_user, agency, monkeypatch, isolated_requests):
    url = redis_app.config["REDIS_URL"]
    real = handlers.KINDS["export"]
    monkeypatch.setitem(handlers.KINDS, "export", dataclasses.replace(real, run=always_dies))
    manager = make_user("manager", agency=agency)
    job, _created = enqueue("export", EXPORT, manager, "dies")
    job_id, manager_id = job.id, manager.id
    work_off(url)
    failed = db.session.get(Job, job_id)
    assert (failed.state, failed.attempts) == (FAILED, 2)  # first try, one retry
    assert "attempt 2" in failed.error and "SystemExit: worker process killed" in failed.error
    assert rq_job(url, job_id).get_status() == JobStatus.FAILED
    login_as(db.session.get(User, manager_id))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "The job failed" in page
    assert f'action="/jobs/{job_id}/retry"' in page
    monkeypatch.setitem(handlers.KINDS, "export", real)  # whatever broke is mended
    assert client.post(f"/jobs/{job_id}/retry").status_code == 303
    assert db.session.get(Job, job_id).state == QUEUED
    work_off(url)
    done = db.session.get(Job, job_id)
    assert (done.state, done.error, done.attempts) == (DONE, None, 3)
    assert client.get(f"/jobs/{job_id}/result").status_code == 200


def test_a_worker_dying_on_the_last_try_fails_the_job_but_not_before(redis_app, make_user):
    """RQ's maintenance calls the failure callback for a dead worker's job, retries or not."""
    url = redis_app.config["REDIS_URL"]
    admin = make_user("admin")
    job, _created = enqueue("export", EXPORT, admin, "abandoned")
    job_id = job.id
    job.state, job.attempts = RUNNING, 1
    db.session.commit()
    queued = rq_job(url, job_id)
    connection = Redis.from_url(url)
    worker.on_failure(queued, connection, AbandonedJobError, AbandonedJobError(), None)
    assert db.session.get(Job, job_id).state == RUNNING  # a retry is left: RQ requeues it
    queued.retries_left = 0
    worker.on_failure(queued, connection, AbandonedJobError, AbandonedJobError(), None)
    db.session.expire_all()
    failed = db.session.get(Job, job_id)
    assert failed.state == FAILED and failed.finished_at is not None
    assert "stopped during its last attempt (attempt 1)" in failed.error


def test_a_job_the_queue_failed_or_lost_is_failed_by_the_page_and_the_list(
        redis_app, runner, client, login_as, make_user, agency, isolated_requests):
    url = redis_app.config["REDIS_URL"]
    manager = make_user("manager", agency=agency)
    gone, _created = enqueue("export", EXPORT, manager, "lost")
    stuck, _created = enqueue("export", EXPORT, manager, "failed-on-rq")
    gone_id, stuck_id, manager_id = gone.id, stuck.id, manager.id
    for row in (gone, stuck):
        row.state, row.attempts = RUNNING, 4
    db.session.commit()
    rq_job(url, gone_id).delete()  # Redis emptied, or the record expired
    assert rq_job(url, gone_id) is None
    rq_job(url, stuck_id).set_status(JobStatus.FAILED)
    login_as(manager)
    page = client.get(f"/jobs/{gone_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "has no record of this job" in page
    listing = runner.invoke(args=["jobs", "list"])
    db.session.expire_all()
    assert f"{stuck_id}\texport\tfailed" in listing.output
    assert "gave up on this job after attempt 4" in db.session.get(Job, stuck_id).error
    assert db.session.get(Job, gone_id).state == FAILED
    restarted = runner.invoke(args=["jobs", "retry", str(stuck_id)])
    assert restarted.exit_code == 0 and f"Job {stuck_id}: queued." in restarted.output
    assert rq_job(url, stuck_id).get_status() == JobStatus.QUEUED
    work_off(url)
    assert db.session.get(Job, stuck_id).state == DONE
    waiting = Job(kind="export", idempotency_key="down", owner_id=manager_id, params=EXPORT,
                  agency_id=db.session.get(User, manager_id).agency_id, state=RUNNING)
    db.session.add(waiting)
    db.session.commit()
    redis_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # a queue that is down says nothing
    page = client.get(f"/jobs/{waiting.id}")
    assert page.status_code == 200 and 'http-equiv="refresh"' in page.get_data(as_text=True)
    assert db.session.get(Job, waiting.id).state == RUNNING

