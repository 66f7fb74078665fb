"""Reminder digests: who gets one on fixed dates, queued and sent once, over SMTP or the log."""

from __future__ import annotations

import base64
import email
import logging
import os
import re
import signal
import socketserver
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from learning.accounts.service import get_or_create_agency
from learning.agency.reminders import (
    MANAGER_DIGEST,
    OFFICER_DIGEST,
    TOKEN_EXPIRING,
    MailerError,
    claim,
    queue_digests,
    send_pending,
)
from learning.agency.reminders_models import Notification
from learning.agency.service import create_assignment
from learning.api.models import ApiToken
from learning.catalogue.models import Course
from learning.certificates.models import Certificate, Completion
from learning.extensions import db
from learning.timeutil import utcnow

MONDAY = date(2030, 1, 7)  # ISO week 2030-W02


def give_certificate(officer, course, issued_on: date, expires_on: date | None) -> None:
    """A valid certificate with fixed dates, as compliance reads it."""
    completion = Completion(user_id=officer.id, course_id=course.id,
                            version_id=course.current_version_id)
    db.session.add(completion)
    db.session.flush()
    db.session.add(Certificate(
        code=f"TEST{officer.id}", completion_id=completion.id, user_id=officer.id,
        course_id=course.id, version_id=course.current_version_id,
        holder_name=officer.display_name, course_slug=course.slug, course_title="Field basics",
        version_number=1, content_hash="0" * 64, issued_on=issued_on, expires_on=expires_on))
    db.session.commit()


@pytest.fixture
def world(synced, make_user, make_unit, agency, client, login_as):
    """Agency A: North due on 14 Jan 2030 (one started, one expiring certificate), South
    overdue since 31 Dec 2029, East due in June; agency B with one overdue officer."""
    north, south, east = (make_unit(agency, name) for name in ("North", "South", "East"))
    manager = make_user("manager", agency=agency, name="Chief A")
    north_manager = make_user("manager", agency=agency, unit=north, name="Boss North")
    south_manager = make_user("manager", agency=agency, unit=south, name="Boss South")
    make_user("manager", agency=agency, name="Former chief", active=False)
    n0, n1, n2 = (make_user("officer", agency=agency, unit=north, name=f"North {n}")
                  for n in range(3))
    make_user("officer", agency=agency, unit=north, name="North gone", active=False)
    s0 = make_user("officer", agency=agency, unit=south, name="South 0")
    make_user("officer", agency=agency, unit=east, name="East 0")
    course = db.session.scalar(sa.select(Course))
    create_assignment(manager, course.id, date(2030, 1, 14), "none", None, [north.id], [])
    create_assignment(manager, course.id, date(2029, 12, 31), "none", None, [south.id], [])
    create_assignment(manager, course.id, date(2030, 6, 30), "none", None, [east.id], [])
    give_certificate(n2, course, date(2029, 2, 1), date(2030, 2, 1))
    login_as(n0)
    client.post("/courses/field-basics/first-steps/")
    client.post("/logout")

    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    b_unit = make_unit(other, "B Post")
    b_manager = make_user("manager", agency=other, name="Chief B")
    b0 = make_user("officer", agency=other, unit=b_unit, name="B Officer")
    create_assignment(b_manager, course.id, date(2029, 12, 1), "none", None, [b_unit.id], [])
    return {"manager": manager, "north_manager": north_manager, "south_manager": south_manager,
            "n0": n0, "n1": n1, "n2": n2, "s0": s0, "b0": b0, "b_manager": b_manager}


def outbox() -> list[Notification]:
    """Every row as the database has it now (other sessions may have written)."""
    db.session.commit()
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).order_by(Notification.id)))


def by_recipient(world) -> dict[tuple[str, str], Notification]:
    names = {user.id: key for key, user in world.items()}
    return {(names[n.user_id], n.kind): n for n in outbox()}


def test_digests_on_a_fixed_monday(world):
    report = queue_digests(MONDAY)
    assert (report.officers, report.managers) == (5, 3)
    digests = by_recipient(world)
    assert set(digests) == {("n0", OFFICER_DIGEST), ("n1", OFFICER_DIGEST),
                            ("n2", OFFICER_DIGEST), ("s0", OFFICER_DIGEST),
                            ("b0", OFFICER_DIGEST), ("manager", MANAGER_DIGEST),
                            ("south_manager", MANAGER_DIGEST), ("b_manager", MANAGER_DIGEST)}
    assert "Field basics: in progress, due 2030-01-14" in digests["n0", OFFICER_DIGEST].body
    assert "Field basics: not started, due 2030-01-14" in digests["n1", OFFICER_DIGEST].body
    assert "Field basics: due again by 2030-02-01" in digests["n2", OFFICER_DIGEST].body
    assert "Field basics: overdue since 2029-12-31" in digests["s0", OFFICER_DIGEST].body
    assert digests["s0", OFFICER_DIGEST].body.startswith("Hello South 0,")
    assert digests["s0", OFFICER_DIGEST].subject == (
        "Training reminder: 1 course needs your attention")
    chief = digests["manager", MANAGER_DIGEST]
    assert chief.subject == "Compliance: 1 officer is overdue"
    assert "- South 0 (South): Field basics: overdue since 2029-12-31" in chief.body
    assert "North" not in chief.body and "B Officer" not in chief.body
    assert "B Officer" in digests["b_manager", MANAGER_DIGEST].body
    assert "South 0" not in digests["b_manager", MANAGER_DIGEST].body
    key = digests["n1", OFFICER_DIGEST].dedupe_key
    assert key.startswith(f"{OFFICER_DIGEST}:{world['n1'].id}:2030-W02:")
    assert all(n.sent_at is None and n.attempts == 0 for n in outbox())


def test_requeue_the_same_week_adds_nothing(world, runner):
    queue_digests(MONDAY)
    before = [(n.id, n.dedupe_key) for n in outbox()]
    again, sunday = queue_digests(MONDAY), queue_digests(date(2030, 1, 12))  # same week
    assert (again.officers, again.managers, sunday.officers, sunday.managers) == (0, 0, 0, 0)
    result = runner.invoke(args=["notify", "queue", "--date", "2030-01-09"])
    assert result.exit_code == 0, result.output
    assert "Queued 0 officer and 0 manager digest(s)." in result.output
    assert [(n.id, n.dedupe_key) for n in outbox()] == before


def test_next_week_and_changed_items_queue_again(world):
    queue_digests(MONDAY)
    # 15 January, week 3: North 0 and North 1 are now overdue as well.
    report = queue_digests(date(2030, 1, 15))
    assert (report.officers, report.managers) == (5, 4)
    week3 = [n for n in outbox() if ":2030-W03:" in n.dedupe_key]
    north_boss = next(n for n in week3 if n.user_id == world["north_manager"].id)
    assert north_boss.subject == "Compliance: 2 officers are overdue"
    assert "North 0" in north_boss.body and "South 0" not in north_boss.body
    chief = next(n for n in week3 if n.user_id == world["manager"].id)
    assert all(name in chief.body for name in ("North 0", "North 1", "South 0"))


def test_due_window_comes_from_config(world, app):
    app.config["REMINDER_DUE_WITHIN_DAYS"] = 5
    report = queue_digests(MONDAY)
    assert report.officers == 3  # North 0 and 1 are due in 7 days: not yet
    assert {n.user_id for n in outbox() if n.kind == OFFICER_DIGEST} == {
        world["n2"].id, world["s0"].id, world["b0"].id}


def test_queue_command_takes_a_date(world, runner):
    result = runner.invoke(args=["notify", "queue", "--date", "2030-01-07"])
    assert result.exit_code == 0, result.output
    assert "Queued 5 officer and 3 manager digest(s)." in result.output
    assert runner.invoke(args=["notify", "queue", "--date", "7/1/2030"]).exit_code == 2


class RecordingMailer:
    """A mailer that keeps what it was given; it may refuse some addresses."""

    def __init__(self, refuse=(), delay: float = 0.0) -> None:
        self.refuse = set(refuse)
        self.delay = delay
        self.sent = []
        self.lock = threading.Lock()

    def send(self, message) -> None:
        if message.to in self.refuse:
            raise MailerError(f"550 no such user {message.to}")
        time.sleep(self.delay)
        with self.lock:
            self.sent.append(message)


def test_send_delivers_each_message_once(world):
    queue_digests(MONDAY)
    mailer = RecordingMailer()
    report = send_pending(mailer)
    assert (report.sent, report.failed) == (8, 0)
    assert Counter(m.to for m in mailer.sent) == Counter(
        world[name].email for name in ("n0", "n1", "n2", "s0", "b0", "manager",
                                       "south_manager", "b_manager"))
    assert all(n.sent_at is not None and n.attempts == 1 for n in outbox())
    assert send_pending(mailer).sent == 0
    queue_digests(MONDAY)
    assert send_pending(mailer).sent == 0
    assert len(mailer.sent) == 8


def test_failed_send_is_kept_and_retried_later(world, app):
    queue_digests(MONDAY)
    refused = world["s0"].email
    report = send_pending(RecordingMailer(refuse={refused}))
    assert (report.sent, report.failed) == (7, 1)
    failed = by_recipient(world)["s0", OFFICER_DIGEST]
    assert failed.sent_at is None and failed.claimed_at is None and failed.attempts == 1
    assert "550 no such user" in failed.last_error
    retry = RecordingMailer()
    assert send_pending(retry).sent == 1
    assert [m.to for m in retry.sent] == [refused]
    assert by_recipient(world)["s0", OFFICER_DIGEST].attempts == 2

    # A message that keeps failing stops being tried after REMINDER_MAX_ATTEMPTS.
    app.config["REMINDER_MAX_ATTEMPTS"] = 2
    queue_digests(date(2030, 1, 15))
    always_refused = RecordingMailer(refuse={world["b0"].email})
    for _ in range(3):
        send_pending(always_refused)
    stuck = [n for n in outbox() if n.sent_at is None]
    assert [(n.user_id, n.attempts) for n in stuck] == [(world["b0"].id, 2)]


def make_notifications(user, count: int) -> None:
    db.session.add_all(Notification(user_id=user.id, kind=OFFICER_DIGEST,
                                    dedupe_key=f"test:{user.id}:{n}", subject=f"Subject {n}",
                                    body=f"Body {n}") for n in range(count))
    db.session.commit()


def test_claims_exclude_other_senders_until_they_expire(app_ctx, make_user):
    officer = make_user("officer")
    make_notifications(officer, 3)
    first, second, third = (n.id for n in outbox())
    lease = timedelta(minutes=15)
    assert claim(first, lease) is True
    assert claim(first, lease) is False
    # A sender that died an hour ago: its claim may be taken over.
    db.session.execute(sa.update(Notification).where(Notification.id == second)
                       .values(claimed_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    mailer = RecordingMailer()
    report = send_pending(mailer)
    assert (report.sent, report.skipped) == (2, 0)
    assert [m.subject for m in mailer.sent] == ["Subject 1", "Subject 2"]
    assert [n.sent_at is None for n in outbox()] == [True, False, False]
    assert claim(third, lease) is False  # sent rows are never claimed again


@pytest.mark.parametrize("senders", [2, 4])
def test_racing_senders_never_send_twice(app, app_ctx, make_user, senders):
    officer = make_user("officer")
    make_notifications(officer, 30)
    mailer = RecordingMailer(delay=0.002)
    barrier = threading.Barrier(senders)
    reports, errors = [], []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                reports.append(send_pending(mailer))
            except Exception as exc:  # surfaced by the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    keys = Counter(m.key for m in mailer.sent)
    assert len(keys) == 30 and set(keys.values()) == {1}
    assert sum(r.sent for r in reports) == 30
    assert all(n.sent_at is not None and n.attempts == 1 for n in outbox())


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough ESMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 fake.test ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-fake.test")
                self.reply("250 AUTH PLAIN")
            elif verb == "AUTH":
                self.server.logins.append(base64.b64decode(command.split()[2]))
                self.reply("235 2.7.0 accepted")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 ok")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip().strip("<>")
                if address in self.server.refuse:
                    self.reply("550 5.1.1 no such user")
                else:
                    recipients.append(address)
                    self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.server.messages.append(
                    (recipients, email.message_from_bytes(b"".join(data))))
                self.reply("250 2.0.0 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class FakeSmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SmtpHandler)
        self.refuse: set[str] = set()
        self.messages: list = []
        self.logins: list[bytes] = []

    @property
    def port(self) -> int:
        return self.server_address[1]


@pytest.fixture
def smtp_server():
    server = FakeSmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_send_over_smtp(world, app, runner, smtp_server):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                      SMTP_FROM="waymark@agency.test", SMTP_STARTTLS="0",
                      SMTP_USER="mailer", SMTP_PASSWORD="s3cret")
    queue_digests(MONDAY)
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 0, result.output
    assert f"Sent 8 message(s) via 127.0.0.1:{smtp_server.port}; 0 failed" in result.output
    assert smtp_server.logins == [b"\0mailer\0s3cret"]  # one connection for the whole run
    delivered = {recipients[0]: message for recipients, message in smtp_server.messages}
    assert len(smtp_server.messages) == 8
    message = delivered[world["s0"].email]
    assert message["From"] == "waymark@agency.test"
    assert message["To"] == world["s0"].email
    assert message["Subject"] == "Training reminder: 1 course needs your attention"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "overdue since 2029-12-31" in message.get_payload(decode=True).decode()
    assert all(n.sent_at is not None for n in outbox())
    again = runner.invoke(args=["notify", "send"])
    assert "Sent 0 message(s)" in again.output and len(smtp_server.messages) == 8


def test_smtp_refusal_and_outage_are_retried(world, app, runner, smtp_server):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_server.port,
                      SMTP_FROM="waymark@agency.test", SMTP_STARTTLS="0")
    queue_digests(MONDAY)
    smtp_server.refuse = {world["n1"].email}
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 1
    assert "Sent 7 message(s)" in result.output and "1 failed" in result.output
    refused = by_recipient(world)["n1", OFFICER_DIGEST]
    assert refused.sent_at is None and "SMTPRecipientsRefused" in refused.last_error

    smtp_server.refuse = set()
    with socketserver.TCPServer(("127.0.0.1", 0), SmtpHandler) as closed:
        dead_port = closed.server_address[1]
    app.config["SMTP_PORT"] = dead_port  # nothing listens there any more
    assert runner.invoke(args=["notify", "send"]).exit_code == 1
    refused = by_recipient(world)["n1", OFFICER_DIGEST]
    assert refused.sent_at is None and refused.attempts == 2
    assert "ConnectionRefusedError" in refused.last_error

    app.config["SMTP_PORT"] = smtp_server.port
    assert runner.invoke(args=["notify", "send"]).exit_code == 0
    assert [r for r, _message in smtp_server.messages].count([world["n1"].email]) == 1
    assert all(n.sent_at is not None for n in outbox())


def test_smtp_settings_come_from_the_environment(world, app, runner, smtp_server,
                                                 monkeypatch):
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "SMTP_STARTTLS"):
        app.config.pop(name, None)
    monkeypatch.setenv("WAYMARK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("WAYMARK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("WAYMARK_SMTP_STARTTLS", "0")
    queue_digests(MONDAY)
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 1 and "WAYMARK_SMTP_FROM" in result.output
    assert smtp_server.messages == []
    monkeypatch.setenv("WAYMARK_SMTP_FROM", "reminders@agency.test")
    result = runner.invoke(args=["notify", "send", "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert [m["From"] for _r, m in smtp_server.messages] == ["reminders@agency.test"] * 3
    assert sum(n.sent_at is not None for n in outbox()) == 3


def test_without_smtp_messages_go_to_the_log(world, app, runner, caplog, monkeypatch):
    monkeypatch.delenv("WAYMARK_SMTP_HOST", raising=False)
    app.config["SMTP_HOST"] = ""
    # Alembic's fileConfig (run by migration tests in this process) disables existing loggers.
    monkeypatch.setattr(logging.getLogger("learning.agency.notify"), "disabled", False)
    caplog.set_level(logging.INFO, logger="learning.agency.notify")
    queue_digests(MONDAY)
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 0, result.output
    assert "Sent 8 message(s) to the log" in result.output
    logged = [r.getMessage() for r in caplog.records if r.name == "learning.agency.notify"]
    assert len(logged) == 8
    line = next(m for m in logged if m.startswith(f"Message to {world['s0'].email}: "))
    assert "Training reminder: 1 course needs your attention" in line
    assert "Field basics: overdue since 2029-12-31" in line
    assert all(n.sent_at is not None for n in outbox())
    caplog.clear()
    assert runner.invoke(args=["notify", "send"]).exit_code == 0
    assert [r for r in caplog.records if r.name == "learning.agency.notify"] == []


def test_a_standing_sender_delivers_what_is_queued_later_and_stops_on_term(
        app, app_ctx, make_user, database_url, smtp_server, tmp_path):
    """``notify send --every`` (make run starts one): messages queued while it runs go out
    once each, and TERM ends it cleanly between passes."""
    officer = make_user("officer")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WAYMARK_", "FLASK_"))}
    env.update({
        "FLASK_APP": "learning", "WAYMARK_SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgresql://"),
        "WAYMARK_BASE_URL": "http://127.0.0.1", "WAYMARK_INSTANCE_PATH": str(tmp_path / "i"),
        "WAYMARK_SMTP_HOST": "127.0.0.1", "WAYMARK_SMTP_PORT": str(smtp_server.port),
        "WAYMARK_SMTP_FROM": "waymark@agency.test", "WAYMARK_SMTP_STARTTLS": "0"})
    sender = subprocess.Popen([sys.executable, "-m", "flask", "notify", "send", "--every", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        for count in (2, 3):  # two now, then one more after the first were sent
            if count == 3:
                db.session.add(Notification(user_id=officer.id, kind=OFFICER_DIGEST,
                                            dedupe_key="test:later", subject="Later",
                                            body="Queued while the sender ran."))
                db.session.commit()
            else:
                make_notifications(officer, count)
            deadline = time.monotonic() + 30
            while len(smtp_server.messages) < count and time.monotonic() < deadline:
                assert sender.poll() is None, sender.stdout.read()
                time.sleep(0.1)
            assert len(smtp_server.messages) == count
        sender.send_signal(signal.SIGTERM)
        output, _ = sender.communicate(timeout=20)
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
    assert sender.returncode == 0, output
    assert "Sent 2 message(s) via" in output and "Sent 1 message(s) via" in output
    assert sorted(m["Subject"] for _r, m in smtp_server.messages) == \
        ["Later", "Subject 0", "Subject 1"]
    db.session.expire_all()
    assert all(n.sent_at is not None and n.attempts == 1 for n in outbox())


def test_with_a_mail_folder_each_message_is_a_private_file_with_its_link(
        app, app_ctx, make_user, runner, tmp_path, monkeypatch, caplog):
    """``MAIL_DIR`` (make run sets it): the log redacts reset links, the files keep them."""
    from learning.accounts.passwords import send_reset_link

    monkeypatch.delenv("WAYMARK_SMTP_HOST", raising=False)
    app.config.update(SMTP_HOST="", MAIL_DIR=str(tmp_path / "mail"))
    monkeypatch.setattr(logging.getLogger("learning.agency.notify"), "disabled", False)
    caplog.set_level(logging.INFO, logger="learning.agency.notify")
    officer = make_user("officer")
    assert send_reset_link(officer)
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 0, result.output
    assert f"Sent 1 message(s) to {tmp_path / 'mail'}" in result.output
    [path] = (tmp_path / "mail").glob("*.eml")
    assert path.stat().st_mode & 0o777 == 0o600
    message = email.message_from_bytes(path.read_bytes())
    assert message["To"] == officer.email and message["Auto-Submitted"] == "auto-generated"
    body = message.get_payload(decode=True).decode()
    assert re.search(r"/reset/[A-Za-z0-9_-]{20,}", body)  # the whole link, usable
    assert any(str(path) in r.getMessage() for r in caplog.records)
    assert all(n.sent_at is not None for n in outbox())
    assert "Sent 0 message(s)" in runner.invoke(args=["notify", "send"]).output
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1


def test_an_unwritable_mail_folder_keeps_the_message_queued(app, app_ctx, make_user, runner,
                                                            tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    monkeypatch.delenv("WAYMARK_SMTP_HOST", raising=False)
    app.config.update(SMTP_HOST="", MAIL_DIR=str(blocker / "mail"))
    make_notifications(make_user("officer"), 1)
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 1 and "1 failed and will be retried" in result.output
    [notification] = outbox()
    assert notification.sent_at is None and "NotADirectoryError" in notification.last_error


# --- A manager's "Remind officers now" ---------------------------------------------------

def mail_folder(app, monkeypatch, tmp_path):
    """Send to a folder of .eml files (as ``make run`` does); the recipients, in order."""
    monkeypatch.delenv("WAYMARK_SMTP_HOST", raising=False)
    folder = tmp_path / "mail"
    app.config.update(SMTP_HOST="", MAIL_DIR=str(folder))
    return lambda: sorted(email.message_from_bytes(path.read_bytes())["To"]
                          for path in folder.glob("*.eml"))


@pytest.fixture
def job_today(monkeypatch):
    """Set the day the reminder job runs on (it refuses a pinned day of another week)."""
    from learning.jobs import handlers

    def set_today(day: date) -> None:
        monkeypatch.setattr(handlers, "utcnow", lambda: datetime(day.year, day.month, day.day, 9))
    set_today(MONDAY)
    return set_today


def remind(manager, day: date = MONDAY):
    """Run the manager's reminder job in-process (no REDIS_URL) and return it."""
    from learning.jobs.service import enqueue, new_token

    job, created = enqueue("officer_reminders", {"day": day.isoformat()}, manager,
                           f"{manager.id}:{new_token()}")
    assert created
    db.session.refresh(job)
    return job


def test_a_unit_manager_reminds_only_the_officers_of_their_unit(world, app, monkeypatch,
                                                                 tmp_path, job_today):
    recipients = mail_folder(app, monkeypatch, tmp_path)
    job = remind(world["south_manager"])
    assert job.state == "done" and (job.done, job.total) == (1, 1)
    assert recipients() == [world["s0"].email]  # not North, not agency B, no manager digest
    assert [(n.user_id, n.kind) for n in outbox()] == [(world["s0"].id, OFFICER_DIGEST)]
    assert "Reminders sent now: 1." in job.summary


def test_pressing_again_in_the_same_week_sends_nothing_twice(world, app, monkeypatch,
                                                              tmp_path, job_today):
    recipients = mail_folder(app, monkeypatch, tmp_path)
    remind(world["south_manager"])
    job_today(date(2030, 1, 10))
    again = remind(world["south_manager"], date(2030, 1, 10))  # Thursday, same week
    assert recipients() == [world["s0"].email]
    assert "Reminders sent now: 0." in again.summary
    # The agency's manager sees North too: North's officers are reminded, South 0 is not
    # (already reminded this week), and the Monday run later queues nothing new for them.
    chief = remind(world["manager"])
    assert "with training that needs attention: 4." in chief.summary
    assert sorted(recipients()) == sorted(world[name].email
                                          for name in ("s0", "n0", "n1", "n2"))
    assert queue_digests(MONDAY).officers == 1  # only agency B's officer was left
    assert all(n.attempts <= 1 for n in outbox())


def test_a_message_that_fails_stays_for_the_outbox_sender(world, app, monkeypatch, tmp_path,
                                                           job_today):
    mail_folder(app, monkeypatch, tmp_path)
    (tmp_path / "mail").write_text("not a folder")  # every delivery fails
    job = remind(world["south_manager"])
    assert job.state == "done" and "Not sent yet (tried again within minutes): 1." in job.summary
    [row] = outbox()
    assert row.sent_at is None and row.last_error and row.claimed_at is None
    (tmp_path / "mail").unlink()
    assert send_pending(RecordingMailer()).sent == 1  # the standing sender delivers it


def test_managers_start_reminders_from_the_compliance_page(world, client, login_as, app,
                                                           monkeypatch, tmp_path):
    recipients = mail_folder(app, monkeypatch, tmp_path)
    login_as(world["s0"])
    assert client.post("/jobs/officer-reminders", data={"token": "x" * 32}).status_code == 403
    client.post("/logout")
    login_as(world["south_manager"])
    page = client.get("/agency/").get_data(as_text=True)
    assert 'action="/jobs/officer-reminders"' in page and "Remind officers now" in page
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]{32})"',
                      page[page.index('action="/jobs/officer-reminders"'):]).group(1)
    response = client.post("/jobs/officer-reminders", data={"token": token})
    assert response.status_code == 303 and "/jobs/" in response.headers["Location"]
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    # The job ran for today, years before every due date of this world: nobody is due.
    assert "Remind officers" in shown and "No officer in your scope has training that" in shown
    assert recipients() == []
    from learning.jobs.models import Job

    job = db.session.scalar(sa.select(Job).where(Job.kind == "officer_reminders"))
    assert job.params == {"day": utcnow().date().isoformat()}  # a retry sends the same week


def test_admins_keep_the_run_for_every_agency_instead(world, client, login_as, make_user):
    login_as(make_user("admin"))
    jobs = client.get("/jobs/").get_data(as_text=True)
    assert 'action="/jobs/reminders"' in jobs and "/jobs/officer-reminders" not in jobs


# --- API tokens ending soon ---------------------------------------------------------------

def test_agency_managers_are_told_once_of_a_token_ending_within_30_days(world, runner):
    from datetime import datetime

    from learning.api import service as api_service

    made = datetime(2029, 12, 10, 9, 0)
    ending, _raw = api_service.create_token(world["manager"], "Payroll", days=30, now=made)
    api_service.create_token(world["manager"], "Later", days=365, now=made)
    gone, _raw = api_service.create_token(world["manager"], "Revoked", days=30, now=made)
    api_service.revoke_token(world["manager"], gone.id)
    api_service.create_token(world["b_manager"], "B system", days=90, now=made)

    report = queue_digests(date(2029, 12, 3))  # Payroll ends on 9 Jan 2030: 37 days away
    assert report.token_notices == 0
    result = runner.invoke(args=["notify", "queue", "--date", "2030-01-07"])  # 2 days away
    # The agency-wide manager only, not the unit managers nor agency B's.
    assert "Queued 1 notice(s) of API tokens ending soon." in result.output
    [notice] = [n for n in outbox() if n.kind == TOKEN_EXPIRING]
    assert notice.user_id == world["manager"].id
    assert notice.subject == "API token “Payroll” stops working on 2030-01-09"
    assert ending.prefix in notice.body and "/agency/tokens/" in notice.body
    assert queue_digests(date(2030, 1, 8)).token_notices == 0  # once, not every run
    result = runner.invoke(args=["notify", "queue", "--date", "2030-01-08"])
    assert "API tokens ending soon" not in result.output


def test_a_retry_in_a_later_week_works_on_that_week_s_list(world, app, monkeypatch, tmp_path,
                                                          job_today):
    """A job that failed on Monday and is retried after the next Monday's run sends no
    officer last week's list again."""
    from learning.jobs import handlers
    from learning.jobs.models import Job
    from learning.jobs.service import enqueue, retry

    recipients = mail_folder(app, monkeypatch, tmp_path)
    real, calls = handlers.queue_scope_digests, []

    def fails_first(manager, day):
        calls.append(day)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real(manager, day)

    monkeypatch.setattr(handlers, "queue_scope_digests", fails_first)
    job, _created = enqueue("officer_reminders", {"day": MONDAY.isoformat()},
                            world["south_manager"], f"{world['south_manager'].id}:" + "a" * 32)
    assert db.session.get(Job, job.id).state == "failed"
    queue_digests(date(2030, 1, 14))  # the next Monday's run reminds South 0 for week 3
    send_pending(RecordingMailer())
    job_today(date(2030, 1, 15))
    retry(db.session.get(Job, job.id))
    assert calls[-1] == date(2030, 1, 15)  # this week's list, not the pinned Monday's
    assert recipients() == []  # South 0 already had week 3's reminder
    assert db.session.get(Job, job.id).state == "done"


def test_a_token_name_is_one_line_and_a_bad_header_does_not_stop_the_sender(
        world, app, client, login_as, monkeypatch, tmp_path):
    from learning.agency.notify_cli import configured_mailer, smtp_settings

    login_as(world["manager"])
    client.post("/agency/tokens/", data={"name": "Payroll\r\nBcc: x@example.org",
                                         "valid_for": "30"})
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name.like("Payroll%")))
    assert token.name == "Payroll Bcc: x@example.org"
    # A message whose subject still holds a line break (written before this rule, or by
    # anything else) is recorded as failed; the messages after it are still sent.
    make_notifications(world["n0"], 1)
    db.session.execute(sa.update(Notification).values(subject="Broken\r\nBcc: x@example.org"))
    make_notifications(world["n1"], 1)
    recipients = mail_folder(app, monkeypatch, tmp_path)
    mailer, _where = configured_mailer(smtp_settings())
    with mailer:
        report = send_pending(mailer)
    assert (report.sent, report.failed) == (1, 1)
    assert recipients() == [world["n1"].email]
    broken = db.session.scalar(sa.select(Notification).where(
        Notification.user_id == world["n0"].id))
    assert broken.sent_at is None and broken.last_error


def test_the_token_notice_gives_the_manager_s_own_date(world):
    from learning.api import service as api_service

    manager = world["manager"]
    manager.time_zone = "America/Los_Angeles"
    db.session.commit()
    # Ends on 10 January 2030 at 03:00 UTC: 9 January, 19:00 in Los Angeles.
    api_service.create_token(manager, "Payroll", days=30, now=datetime(2029, 12, 11, 3, 0))
    assert queue_digests(MONDAY).token_notices == 1
    [notice] = [n for n in outbox() if n.kind == TOKEN_EXPIRING]
    assert notice.subject == "API token “Payroll” stops working on 2030-01-09"


def test_without_an_agency_wide_manager_the_token_s_maker_is_told(world, make_user):
    from learning.api import service as api_service

    admin = make_user("admin", name="Admin")
    admin.agency_id = world["b0"].agency_id
    db.session.commit()
    world["b_manager"].active = False  # agency B's only agency-wide manager leaves
    db.session.commit()
    api_service.create_token(admin, "B payroll", days=30, now=datetime(2029, 12, 11, 9, 0))
    assert queue_digests(MONDAY).token_notices == 1
    [notice] = [n for n in outbox() if n.kind == TOKEN_EXPIRING]
    assert notice.user_id == admin.id
