"""Background jobs: in-process runs with progress, idempotency keys, idempotent handlers
(a crash half-way then a retry duplicates nothing), permissions, the page without
JavaScript, and a real RQ worker killed mid-job whose job another worker finishes."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from learning.accounts.service import get_or_create_agency
from learning.agency.reminders_models import Notification
from learning.agency.service import create_assignment
from learning.assessments.models import Attempt
from learning.catalogue.models import Course
from learning.certificates.models import Certificate, Completion
from learning.extensions import db
from learning.jobs import steps
from learning.jobs.models import DONE, FAILED, QUEUED, Job, JobFile
from learning.jobs.service import enqueue, new_token, requeued_after_worker_died, run_job
from learning.jobs.worker import rq_status
from learning.progress.models import LessonProgress
from tests.redisserver import ThrowawayRedis
from tests.test_certificates import pass_final, read_all_lessons

ROOT = Path(__file__).resolve().parent.parent


def eligible_officers(client, login_as, make_user, agency, count: int) -> list[int]:
    """``count`` officers who met the completion rule but hold no certificate yet.

    One officer completes the course through the pages; their lesson and attempt rows
    are then copied to the others directly (no signal fires, so nothing is issued), as
    after an import or an outage of the issuing path.
    """
    first = make_user("officer", agency=agency)
    login_as(first)
    read_all_lessons(client)
    pass_final(client)
    client.post("/logout")
    lessons = [dict(row._mapping) for row in db.session.execute(
        sa.select(LessonProgress.__table__).where(LessonProgress.user_id == first.id))]
    attempt = dict(db.session.execute(sa.select(Attempt.__table__).where(
        Attempt.user_id == first.id, Attempt.passed.is_(True))).first()._mapping)
    officers = [make_user("officer", agency=agency).id for _n in range(count)]
    for table, template in ((LessonProgress.__table__, lessons), (Attempt.__table__, [attempt])):
        rows = [{**row, "user_id": user_id} for user_id in officers for row in template]
        for row in rows:
            row.pop("id")
        db.session.execute(sa.insert(table), rows)
    db.session.commit()
    return [first.id, *officers]


def certificates_per_officer(course_id: int) -> dict[int, int]:
    db.session.expire_all()
    return dict(db.session.execute(
        sa.select(Certificate.user_id, sa.func.count(Certificate.id))
        .where(Certificate.course_id == course_id).group_by(Certificate.user_id)).all())


def completions_per_officer(course_id: int) -> dict[int, int]:
    return dict(db.session.execute(
        sa.select(Completion.user_id, sa.func.count(Completion.id))
        .where(Completion.course_id == course_id).group_by(Completion.user_id)).all())


def course_id() -> int:
    return db.session.scalar(sa.select(Course.id).where(Course.slug == "field-basics"))


@pytest.fixture
def app_config(app_config):
    return {**app_config, "JOB_CHUNK": 2}


@pytest.fixture
def officers(synced, client, login_as, make_user, agency):
    return eligible_officers(client, login_as, make_user, agency, 4)


def test_bulk_certificates_in_process_with_progress_and_zip(client, login_as, make_user,
                                                            officers, monkeypatch):
    progress = []
    real_advance = steps.advance

    def record(job, done, total=None, cursor=None):
        real_advance(job, done, total, cursor)
        db.session.refresh(job)  # what the database holds now, committed
        progress.append((job.done, job.total))

    monkeypatch.setattr(steps, "advance", record)
    assert certificates_per_officer(course_id()) == {officers[0]: 1}
    login_as(make_user("admin"))
    response = client.post("/jobs/certificates", data={
        "course_id": course_id(), "pdfs": "y", "token": new_token()})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert progress == [(0, 5), (2, 5), (4, 5), (5, 5)]  # committed after every chunk of 2
    assert 'http-equiv="refresh"' not in page  # done: the page stops refreshing
    assert '<progress id="job-progress" max="5" value="5">' in page
    assert certificates_per_officer(course_id()) == dict.fromkeys(officers, 1)
    job = db.session.scalar(sa.select(Job))
    assert (job.state, job.done, job.total, job.attempts) == (DONE, 5, 5, 1)
    download = client.get(f"/jobs/{job.id}/result")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.data)).namelist()
    codes = db.session.scalars(sa.select(Certificate.code)).all()
    assert sorted(names) == sorted(f"{code}.pdf" for code in codes)
    assert all(zipfile.ZipFile(io.BytesIO(download.data)).read(name).startswith(b"%PDF")
               for name in names)
    assert db.session.scalar(sa.select(sa.func.count(JobFile.id))) == 1  # parts dropped


def test_the_same_form_posted_twice_starts_one_job(client, login_as, make_user, officers):
    login_as(make_user("admin"))
    form = {"course_id": course_id(), "token": new_token()}
    first = client.post("/jobs/certificates", data=form)
    second = client.post("/jobs/certificates", data=form)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 1
    assert certificates_per_officer(course_id()) == dict.fromkeys(officers, 1)
    third = client.post("/jobs/certificates", data={**form, "token": new_token()})
    assert third.headers["Location"] != first.headers["Location"]  # a new click, a new job
    assert certificates_per_officer(course_id()) == dict.fromkeys(officers, 1)


def test_a_job_that_crashed_half_way_resumes_without_duplicates(app, client, login_as,
                                                                 make_user, officers):
    admin = make_user("admin")
    app.config["JOB_CRASH_AFTER_ITEMS"] = 3
    job, _created = enqueue("certificates", {"course_id": course_id(), "pdfs": True}, admin,
                            "crash")
    db.session.refresh(job)
    assert job.state == FAILED and "crash injected" in job.error
    assert job.done == 2  # the first chunk was committed, the second was not
    login_as(admin)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "crash injected after 3 items" in page and "Try again" in page

    app.config["JOB_CRASH_AFTER_ITEMS"] = 0
    assert client.post(f"/jobs/{job.id}/retry").status_code == 303
    db.session.refresh(job)
    assert (job.state, job.done, job.attempts) == (DONE, 5, 2)
    assert certificates_per_officer(course_id()) == dict.fromkeys(officers, 1)
    assert completions_per_officer(course_id()) == dict.fromkeys(officers, 1)
    zipped = zipfile.ZipFile(io.BytesIO(db.session.scalar(sa.select(JobFile.data))))
    assert len(zipped.namelist()) == len(officers)

    # Run the whole job once more from the start: still one of everything.
    job.state, job.cursor = QUEUED, 0
    db.session.commit()
    run_job(job.id)
    db.session.refresh(job)
    assert job.state == DONE
    assert certificates_per_officer(course_id()) == dict.fromkeys(officers, 1)
    assert completions_per_officer(course_id()) == dict.fromkeys(officers, 1)
    assert len(zipfile.ZipFile(io.BytesIO(db.session.scalar(
        sa.select(JobFile.data)))).namelist()) == len(officers)


def test_only_the_owner_and_admins_see_a_job(client, login_as, make_user, agency, officers):
    owner, other = make_user("manager", agency=agency), make_user("manager", agency=agency)
    job, _created = enqueue("certificates", {"course_id": course_id(), "pdfs": True}, owner,
                            "owned")
    login_as(other)
    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get(f"/jobs/{job.id}/result").status_code == 404
    assert client.get("/jobs/999999").status_code == 404
    assert f'href="/jobs/{job.id}"' not in client.get("/jobs/").get_data(as_text=True)
    client.post("/logout")
    login_as(owner)
    assert client.get(f"/jobs/{job.id}").status_code == 200
    assert f'href="/jobs/{job.id}"' in client.get("/jobs/").get_data(as_text=True)
    assert client.get(f"/jobs/{job.id}/result").status_code == 200
    client.post("/logout")
    login_as(make_user("officer", agency=agency))
    response = client.post("/jobs/certificates", data={"course_id": course_id(),
                                                       "token": new_token()})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 1


@pytest.mark.parametrize("change", ["demoted", "moved"])
def test_a_manager_who_is_demoted_or_moved_loses_their_jobs_results(
        client, login_as, make_user, agency, officers, change):
    owner = make_user("manager", agency=agency)
    job, _created = enqueue("export", {"format": "csv"}, owner, "owned")
    assert job.state == DONE
    paths = (f"/jobs/{job.id}", f"/jobs/{job.id}/result")
    login_as(owner)
    assert [client.get(path).status_code for path in paths] == [200, 200]
    client.post("/logout")
    if change == "demoted":
        owner.role = "officer"
    else:
        owner.agency_id = get_or_create_agency("Agency B", "agency-b").id
    db.session.commit()
    login_as(owner)
    assert [client.get(path).status_code for path in paths] == [404, 404]
    assert f'href="/jobs/{job.id}"' not in client.get("/jobs/").get_data(as_text=True)
    client.post("/logout")
    login_as(make_user("admin"))  # the export is still there for an admin
    assert client.get(f"/jobs/{job.id}/result").status_code == 200


def test_bad_start_requests_are_refused_and_change_nothing(client, login_as, make_user,
                                                          officers):
    login_as(make_user("admin"))
    for form in ({"course_id": course_id()}, {"course_id": course_id(), "token": "x" * 32},
                 {"course_id": "999999", "token": new_token()},
                 {"course_id": "abc", "token": new_token()}):
        assert client.post("/jobs/certificates", data=form).status_code == 400
    assert client.post("/jobs/export", data={"format": "pdf", "token": new_token()}
                       ).status_code == 400
    assert client.post("/jobs/export", data={"format": "csv", "state": "nope",
                                             "token": new_token()}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_the_progress_page_refreshes_itself_without_javascript(client, login_as, make_user,
                                                              officers):
    admin = make_user("admin")
    job = Job(kind="certificates", idempotency_key="k", owner_id=admin.id,
              params={"course_id": course_id()}, state="running", done=3, total=7)
    db.session.add(job)
    db.session.commit()
    login_as(admin)
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in page
    assert '<progress id="job-progress" max="7" value="3">3 / 7</progress>' in page
    assert "<script>" not in page and "Download" not in page
    listing = client.get("/jobs/").get_data(as_text=True)
    assert f'href="/jobs/{job.id}"' in listing and "3 / 7" in listing


def test_export_job_makes_the_same_rows_as_the_direct_export(client, login_as, make_user,
                                                             agency, officers):
    manager = make_user("manager", agency=agency)
    create_assignment(manager, course_id(), date(2031, 1, 31), "none", None, [],
                      [db.session.get(type(manager), officers[1]).email])
    db.session.commit()
    login_as(manager)
    direct = client.get("/agency/export.csv").get_data(as_text=True)
    assert client.get("/agency/").get_data(as_text=True).count('action="/jobs/export"') == 1
    response = client.post("/jobs/export", data={"format": "csv", "unit": "", "course": "",
                                                 "state": "", "token": new_token()})
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 rows." in job_page
    job = db.session.scalar(sa.select(Job))
    prepared = client.get(f"/jobs/{job.id}/result").get_data(as_text=True)
    assert list(csv.reader(io.StringIO(prepared))) == list(csv.reader(io.StringIO(direct)))
    response = client.post("/jobs/export", data={"format": "xlsx", "token": new_token()})
    xlsx_job = db.session.scalar(sa.select(Job).where(Job.id != job.id))
    sheet = load_workbook(io.BytesIO(client.get(f"/jobs/{xlsx_job.id}/result").data)).active
    assert sheet.max_row == 2  # the header and the one officer with the assignment


def test_reminders_job_sends_each_message_once(client, login_as, make_user, agency, officers):
    manager = make_user("manager", agency=agency)
    emails = [db.session.get(type(manager), user_id).email for user_id in officers[1:3]]
    create_assignment(manager, course_id(), date(2020, 1, 31), "none", None, [], emails)
    db.session.commit()
    login_as(make_user("admin"))
    client.post("/jobs/reminders", data={"token": new_token()})
    sent = db.session.scalars(sa.select(Notification.sent_at)).all()
    assert sent and all(sent)  # the overdue officers' digests and the manager's, all sent
    client.post("/jobs/reminders", data={"token": new_token()})
    db.session.expire_all()
    assert len(db.session.scalars(sa.select(Notification.sent_at)).all()) == len(sent)
    assert all(job.state == DONE for job in db.session.scalars(sa.select(Job)))
    assert db.session.scalar(sa.select(Notification.attempts).limit(1)) == 1  # sent once


# --- A real worker on a real Redis, killed mid-job -------------------------------------

def _wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker"], env=env,
                            cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


@pytest.fixture
def redis_server():
    server = ThrowawayRedis().start()
    yield server
    server.stop()


@pytest.fixture
def worker_env(app, database_url, redis_server, tmp_path) -> dict[str, str]:
    """The environment of a worker process on the test's database and Redis."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WAYMARK_", "FLASK_"))}
    url = database_url if database_url.startswith("sqlite") else \
        database_url.replace("postgresql+psycopg://", "postgresql://")
    env.update({
        "FLASK_APP": "learning", "DATABASE_URL": url, "REDIS_URL": redis_server.url,
        "WAYMARK_SECRET_KEY": "test-secret-key", "WAYMARK_BASE_URL": "http://127.0.0.1",
        "WAYMARK_INSTANCE_PATH": str(tmp_path / "instance"),
        "WAYMARK_JOB_CHUNK": "10", "WAYMARK_JOB_ITEM_DELAY": "0.02",
        "WAYMARK_JOB_HEARTBEAT_SECONDS": "3", "WAYMARK_JOB_MAINTENANCE_SECONDS": "1",
        "WAYMARK_JOB_WORKER_TTL": "16"})
    app.config["REDIS_URL"] = redis_server.url
    return env


def test_a_killed_worker_s_job_is_finished_by_another_worker(
        app, client, login_as, make_user, agency, synced, worker_env, tmp_path):
    officers = eligible_officers(client, login_as, make_user, agency, 299)
    admin = make_user("admin")
    job, created = enqueue("certificates", {"course_id": course_id(), "pdfs": False}, admin,
                           "bulk")
    assert created and job.state == QUEUED  # queued on Redis, not run here
    job_id, log = job.id, tmp_path / "worker.log"
    # A registration lives 5 s past the last chunk: long enough to see a killed worker's
    # job still "Running" at first, short enough to wait out.
    worker_env["WAYMARK_JOB_HEARTBEAT_SECONDS"] = "5"
    first = _start_worker(worker_env, log)
    workers = [first]
    try:
        _wait_for(lambda: db.session.get(Job, job_id).done > 0, 120, "the first chunk")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        db.session.expire_all()
        killed_at = db.session.get(Job, job_id)
        assert killed_at.state == "running" and 0 < killed_at.done < len(officers)
        # No worker is left to notice. The page does RQ's maintenance pass once the dead
        # worker's registration runs out: the job is then queued again, not "Running".
        login_as(admin)
        page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
        assert "Running" in page  # its registration is still alive: nothing changes yet
        _wait_for(lambda: "Waiting to start" in client.get(f"/jobs/{job_id}").get_data(
            as_text=True), 30, "the page to show the dead worker's job as queued again")
        waiting = db.session.get(Job, job_id)
        assert (waiting.state, waiting.attempts) == (QUEUED, 1)
        assert waiting.error.startswith("The worker running this job stopped during attempt 1")
        assert rq_status(worker_env["REDIS_URL"], job_id) == "queued"
        assert requeued_after_worker_died(waiting) is False  # not running: left alone
        workers.append(_start_worker(worker_env, log))
        _wait_for(lambda: db.session.get(Job, job_id).state == DONE, 180,
                  "the job to be requeued and finished: " + log.read_text()[-2000:])
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(timeout=10)
    finished = db.session.get(Job, job_id)
    assert (finished.done, finished.total) == (len(officers), len(officers))
    assert finished.attempts == 2
    assert certificates_per_officer(course_id()) == dict.fromkeys(officers, 1)
    assert completions_per_officer(course_id()) == dict.fromkeys(officers, 1)


def test_jobs_commands_list_retry_and_send_reminders(app, runner, make_user, officers,
                                                     monkeypatch, tmp_path):
    admin = make_user("admin")
    job, _created = enqueue("certificates", {"course_id": course_id(), "pdfs": False}, admin,
                            "cli")
    listing = runner.invoke(args=["jobs", "list"])
    assert listing.exit_code == 0 and f"{job.id}\tcertificates\tdone\t5/5" in listing.output
    refused = runner.invoke(args=["jobs", "retry", str(job.id)])
    assert refused.exit_code == 1 and "nothing to retry" in refused.output
    assert runner.invoke(args=["jobs", "retry", "999999"]).exit_code == 1
    job.state = FAILED
    db.session.commit()
    assert "done" in runner.invoke(args=["jobs", "retry", str(job.id)]).output
    assert certificates_per_officer(course_id()) == dict.fromkeys(officers, 1)
    sent = runner.invoke(args=["jobs", "reminders"])
    assert sent.exit_code == 0 and ": done." in sent.output
    from learning.accounts.passwords import send_reset_link

    monkeypatch.delenv("WAYMARK_SMTP_HOST", raising=False)
    app.config.update(SMTP_HOST="", MAIL_DIR=str(tmp_path / "mail"))
    assert send_reset_link(admin)
    assert runner.invoke(args=["jobs", "reminders"]).exit_code == 0
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1  # the job sends as the CLI does
    worker = runner.invoke(args=["jobs", "worker", "--burst"])
    assert worker.exit_code == 1 and "REDIS_URL is not set" in worker.output


def test_a_database_restart_mid_job_is_waited_out_by_the_worker(app, make_user, officers,
                                                                 monkeypatch):
    """PostgreSQL restarting under a running job: the worker waits, reconnects and resumes."""
    from learning.jobs import handlers, worker

    admin = make_user("admin")
    job = Job(kind="certificates", idempotency_key="restart", owner_id=admin.id,
              params={"course_id": course_id(), "pdfs": False})
    db.session.add(job)
    db.session.commit()
    job_id, course = job.id, course_id()
    real = handlers.KINDS["certificates"]
    failures = []

    def flaky(job_row):
        if not failures:
            failures.append(1)
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the "
                                                                     "connection"))
        real.run(job_row)

    monkeypatch.setitem(handlers.KINDS, "certificates", dataclasses.replace(real, run=flaky))
    pauses = []
    worker.perform(job_id, pause=pauses.append)
    done = db.session.get(Job, job_id)
    assert (done.state, done.attempts, pauses) == (DONE, 2, [1])
    assert certificates_per_officer(course) == dict.fromkeys(officers, 1)


def _imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at the top or inside a function."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_job_handlers_and_services_never_import_a_view_module():
    """One-way imports (views -> services -> models): only views and the app factory,
    which registers blueprints, may import a views module."""
    offenders = []
    for path in sorted((ROOT / "learning").rglob("*.py")):
        if path.name.endswith("views.py") or path == ROOT / "learning" / "__init__.py":
            continue
        offenders += [f"{path.relative_to(ROOT)} imports {name}"
                      for name in sorted(_imported_modules(path))
                      if name.startswith("learning.") and name.endswith("views")]
    assert offenders == []
