"""Completion rules, certificates issued once, the verify page, PDFs and signed payloads."""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from learning.certificates.dates import add_months
from learning.certificates.models import Certificate, Completion
from learning.certificates.service import record_completion
from learning.extensions import db
from learning.progress.models import LessonProgress
from learning.signals import progress_changed
from learning.timeutil import utcnow
from tests.test_assessments import attempt_row, correct_form, start

LESSONS = ("first-steps", "second-steps", "hard-topics", "wrap-up")


@pytest.fixture
def officer(make_user, login_as, synced):
    user = make_user("officer", name="Анна Петрова")
    login_as(user)
    return user


def read_all_lessons(client):
    for slug in LESSONS:
        client.post(f"/courses/field-basics/{slug}/")


def pass_final(client):
    attempt_id, location = start(client)
    client.post(location + "submit", data=correct_form(attempt_row(attempt_id)))
    return attempt_row(attempt_id)


def certificates() -> list[Certificate]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Certificate)))


@pytest.mark.parametrize("day,months,expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
    (date(2028, 2, 29), 12, date(2029, 2, 28)),
    (date(2028, 2, 29), 48, date(2032, 2, 29)),
    (date(2026, 8, 31), 24, date(2028, 8, 31)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
])
def test_expiry_arithmetic(day, months, expected):
    assert add_months(day, months) == expected


def test_certificate_needs_every_lesson_and_the_final(client, officer):
    pass_final(client)
    assert certificates() == []  # lessons not read yet
    read_all_lessons(client)
    (certificate,) = certificates()
    assert certificate.holder_name == "Анна Петрова"
    assert certificate.course_title == "Field basics" and certificate.version_number == 1
    assert certificate.score == 100
    assert certificate.issued_on == utcnow().date()
    assert certificate.expires_on == add_months(certificate.issued_on, 24)
    assert re.fullmatch(r"[0-9a-f]{32}", certificate.code)


def test_failing_the_final_issues_nothing(client, officer):
    read_all_lessons(client)
    _attempt_id, location = start(client)
    client.post(location + "submit", data={"sequence": "1"})
    assert certificates() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 0


def test_certificate_is_issued_once(client, officer):
    read_all_lessons(client)
    pass_final(client)
    for _ in range(3):
        record_completion(officer.id, certificates()[0].course_id)
    assert len(certificates()) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 1


def test_changed_lesson_must_be_read_again(client, officer, app, tmp_path):
    import shutil

    from learning.catalogue.service import sync_catalogue
    from tests.conftest import FIXTURE_CONTENT

    read_all_lessons(client)
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    lesson = root / "courses/field-basics/wrap-up.md"
    lesson.write_text(lesson.read_text() + "\nA new paragraph.\n")
    sync_catalogue(root / "courses", root / "quizzes")
    overview = client.get("/courses/field-basics/").get_data(as_text=True)
    assert "This course has been updated since you read some lessons" in overview
    assert 'href="/courses/field-basics/wrap-up/">Wrap-up</a>' in overview
    # A lesson to re-read was read: it still counts, and is named as one to re-read.
    assert "4 of 4 lessons" in overview and "1 lesson to re-read" in overview
    pass_final(client)
    assert certificates() == []  # wrap-up changed since it was read
    client.post("/courses/field-basics/wrap-up/")  # already has a row: re-reading refreshes it
    assert len(certificates()) == 1


@pytest.fixture
def certificate(client, officer) -> Certificate:
    read_all_lessons(client)
    pass_final(client)
    (issued,) = certificates()
    return issued


def test_verify_page_statuses(app, client, certificate):
    client.post("/logout")
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Valid" in html and "Анна Петрова" in html and "Field basics" in html
    assert certificate.issued_on.isoformat() in html and certificate.expires_on.isoformat() in html

    certificate.expires_on = utcnow().date()
    db.session.commit()
    assert "Expired" in client.get(f"/verify/{certificate.code}").get_data(as_text=True)

    from learning.certificates.service import revoke_certificate
    revoke_certificate(certificate, "Issued in error after a data fix.", admin_id=None)
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Revoked" in html and "Revoked on" in html
    assert "data fix" not in html  # the reason is never public


def test_public_page_shows_nothing_else_about_the_officer(client, certificate, officer):
    client.post("/logout")
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert officer.email not in html and "Agency A" not in html
    assert "100%" not in html and "Score" not in html  # the score is printed only on the PDF


@pytest.mark.parametrize("code", ["0" * 32, "not-a-code", "A" * 32, "x" * 500, "%FF"])
def test_unknown_and_malformed_codes_get_the_same_page(client, synced, code):
    response = client.get(f"/verify/{code}")
    assert response.status_code == 404
    assert "No certificate has this code." in response.get_data(as_text=True)
    reference = client.get("/verify/" + "0" * 32).get_data(as_text=True)
    assert response.get_data(as_text=True) == reference


def test_verify_is_rate_limited_per_client(app, client, synced):
    app.config["VERIFY_RATE_LIMIT"] = "5 per minute"
    statuses = [client.get("/verify/" + "0" * 32).status_code for _ in range(7)]
    assert statuses == [404] * 5 + [429] * 2
    other = app.test_client()
    response = other.get("/verify/" + "0" * 32, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert response.status_code == 404  # another client has its own allowance


def test_pdf_text_and_qr_code(client, certificate, tmp_path):
    response = client.get(f"/certificates/{certificate.code}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("Certificate of completion", "Анна Петрова", "Field basics",
                     certificate.code, f"Issued {certificate.issued_on.isoformat()}",
                     f"Valid until {certificate.expires_on.isoformat()}", "Score 100%"):
        assert expected in text
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "page.png")],
                             capture_output=True, text=True, check=True).stdout.strip()
    # No WAYMARK_BASE_URL in tests: the debug/testing address, never the request's host.
    assert decoded.startswith(f"http://127.0.0.1:5000/verify/{certificate.code}?p=WM1.")
    path = decoded.split("127.0.0.1:5000", 1)[1]
    assert "Valid" in client.get(path).get_data(as_text=True)

    letter = client.get(f"/certificates/{certificate.code}.pdf?paper=letter").data
    info = subprocess.run(["pdfinfo", "-"], input=letter, capture_output=True, check=True).stdout
    assert b"792 x 612 pts (letter)" in info
    assert client.get(f"/certificates/{certificate.code}.pdf?paper=a3").status_code == 400


def test_arabic_name_is_printed(client, certificate, tmp_path):
    certificate.holder_name = "فاطمة الزهراء"
    db.session.commit()
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(client.get(f"/certificates/{certificate.code}.pdf").data)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "DejaVuSans" in fonts
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "الزهراء" in text or "ءارهزلا" in text  # extraction order of RTL text varies


def test_only_the_holder_downloads_the_pdf(client, certificate, make_user, login_as):
    client.post("/logout")
    login_as(make_user("officer"))
    assert client.get(f"/certificates/{certificate.code}.pdf").status_code == 404
    client.post("/logout")
    login_as(make_user("admin"))
    assert client.get(f"/certificates/{certificate.code}.pdf").status_code == 200


def test_signed_payload_round_trip_and_tampering(app, client, certificate, tmp_path, runner):
    from learning.certificates.service import certificate_payload
    from learning.certificates.signing import PUBLIC_KEY_FILE

    payload = certificate_payload(certificate)
    result = runner.invoke(args=["certificates", "verify", payload])
    assert result.exit_code == 0, result.output
    assert "Signature OK. Status on" in result.output and "VALID" in result.output
    assert "Анна Петрова" in result.output

    head, body, signature = payload.split(".")
    import base64
    import json
    fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    fields["n"] = "Someone Else"
    forged_body = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    result = runner.invoke(args=["certificates", "verify", f"{head}.{forged_body}.{signature}"])
    assert result.exit_code == 1 and "signature does not match" in result.output
    result = runner.invoke(args=["certificates", "verify", "WM1.garbage"])
    assert result.exit_code == 1 and "not a Waymark certificate payload" in result.output

    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(client.get(f"/certificates/{certificate.code}.pdf").data)
    result = runner.invoke(args=["certificates", "verify", str(pdf)])
    assert result.exit_code == 0, result.output
    # Another instance's key rejects it; a PDF whose printed name was edited is rejected.
    key_file = tmp_path / "other.pub.pem"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key_file.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    result = runner.invoke(args=["certificates", "verify", str(pdf), "--public-key",
                                 str(key_file)])
    assert result.exit_code == 1 and "signature does not match" in result.output

    from pypdf import PdfReader, PdfWriter
    reader = PdfReader(str(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.add_metadata({"/Subject": payload.replace(signature, signature[::-1])})
    tampered = tmp_path / "tampered.pdf"
    with tampered.open("wb") as handle:
        writer.write(handle)
    result = runner.invoke(args=["certificates", "verify", str(tampered)])
    assert result.exit_code == 1 and "NOT VALID" in result.output
    assert (app.instance_path and (tmp_path / "x").parent.exists())
    assert PUBLIC_KEY_FILE.endswith(".pub.pem")


def test_issue_missing_and_revoke_commands(client, officer, runner, tmp_path):
    read_all_lessons(client)
    pass_final(client)
    db.session.execute(sa.delete(Certificate))
    db.session.commit()
    result = runner.invoke(args=["certificates", "issue-missing", "--pdf-dir",
                                 str(tmp_path / "pdfs")])
    assert result.exit_code == 0, result.output
    assert "1 certificates issued or already present" in result.output
    (certificate,) = certificates()
    assert (tmp_path / "pdfs" / f"{certificate.code}.pdf").read_bytes().startswith(b"%PDF")
    result = runner.invoke(args=["certificates", "revoke", certificate.code, "--reason",
                                 "Identity mix-up"])
    assert result.exit_code == 0 and "Revoked" in result.output
    assert certificates()[0].revoked_reason == "Identity mix-up"
    result = runner.invoke(args=["certificates", "revoke", "0" * 32, "--reason", "x"])
    assert result.exit_code != 0 and "No certificate" in result.output


def test_recertification_after_expiry_issues_a_new_certificate(client, certificate, officer):
    completion = db.session.get(Completion, certificate.completion_id)
    completion.completed_at = utcnow() - timedelta(days=700)
    first_attempt = attempt_row(completion.attempt_id)
    first_attempt.submitted_at = utcnow() - timedelta(days=701)
    db.session.commit()
    record_completion(officer.id, certificate.course_id)
    assert len(certificates()) == 1  # not due yet: the certificate is valid for months

    certificate = certificates()[0]
    certificate.expires_on = utcnow().date() + timedelta(days=30)  # inside the 90-day window
    db.session.commit()
    record_completion(officer.id, certificate.course_id)
    assert len(certificates()) == 1  # due, but the final has not been passed again

    pass_final(client)
    assert len(certificates()) == 1  # the lesson marked for recertification is still unread
    page = client.get("/courses/field-basics/hard-topics/").get_data(as_text=True)
    assert "Mark as read again (needed to recertify)" in page
    progress = db.session.scalars(sa.select(LessonProgress)).all()
    for row in progress:
        row.completed_at = utcnow() - timedelta(days=702)
    db.session.commit()
    client.post("/courses/field-basics/hard-topics/")  # read again; other lessons need not be
    old, new = sorted(certificates(), key=lambda c: c.id)
    assert old.code == certificate.code and old.revoked_at is None  # history kept
    assert new.code != old.code and new.issued_on == utcnow().date()
    assert db.session.get(Completion, new.completion_id).cycle == 1


def test_names_in_many_scripts_in_any_order(app_ctx, tmp_path):
    from learning.certificates.pdf import PrintedCertificate, render_pdf

    labels = {"title": "Certificate", "certifies": "c", "completed": "d", "code": "e",
              "verify": "f"}
    left_to_right = ["Анна Петрова", "Zoë Ñúñez", "Ψυχή Παππά", "Nguyễn Thị Hoa", "Անի",
                     "ნინო"]
    right_to_left = ["فاطمة الزهراء", "שרה כהן"]
    for name in ["Анна Петрова", *right_to_left, "Zoë Ñúñez", *left_to_right[2:]]:
        pdf = tmp_path / "n.pdf"
        pdf.write_bytes(render_pdf(PrintedCertificate(
            "0" * 32, name, "Course", "Version 1", None, "Issued", "Valid", "http://x/verify/0",
            "WM1.a.b", labels), cache_dir=tmp_path / "fonts"))
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                              text=True).stdout
        if name in left_to_right:
            assert name in text
        else:  # extracted in visual order, or as Arabic presentation forms
            assert name in text or name[::-1] in text or name.startswith("فاطمة")
    assert len(list((tmp_path / "fonts").glob("*.ttf"))) == 2  # cut-down fonts made once


def test_concurrent_completion_checks_issue_one_certificate(app, client, officer):
    from tests.test_concurrency import run_together

    read_all_lessons(client)
    pass_final(client)
    course_id, user_id = certificates()[0].course_id, officer.id
    db.session.execute(sa.delete(Certificate))
    db.session.execute(sa.delete(Completion))
    db.session.commit()

    def check(_index):
        with app.app_context():
            certificate = record_completion(user_id, course_id)
            return certificate.code if certificate else None

    codes = run_together(8, check)
    assert len(set(codes)) == 1 and None not in codes, codes
    assert len(certificates()) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion)) == 1


def test_admin_revokes_with_a_reason(client, certificate, make_user, login_as, app):
    client.post("/logout")
    login_as(make_user("admin"))
    html = client.get(f"/admin/?code={certificate.code.upper()}", follow_redirects=True)
    assert certificate.holder_name in html.get_data(as_text=True)
    response = client.post(f"/admin/certificates/{certificate.code}", data={"reason": "x"})
    assert response.status_code == 200 and certificates()[0].revoked_at is None  # too short
    response = client.post(f"/admin/certificates/{certificate.code}",
                           data={"reason": "Completed under another officer's account."})
    assert response.status_code == 302
    revoked = certificates()[0]
    assert revoked.revoked_at is not None and revoked.revoked_by is not None
    client.post("/logout")
    html = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "Revoked" in html and "another officer" not in html


def test_issue_missing_runs_outside_any_request(app, client, officer, tmp_path, database_url,
                                                content_dirs):
    import os
    import sys

    read_all_lessons(client)
    pass_final(client)
    db.session.execute(sa.delete(Certificate))
    db.session.commit()
    env = dict(os.environ, FLASK_APP="learning", DATABASE_URL=database_url,
               WAYMARK_SECRET_KEY="k", WAYMARK_BASE_URL="https://waymark.test",
               WAYMARK_INSTANCE_PATH=str(tmp_path / "instance"),
               WAYMARK_COURSES_DIR=str(content_dirs[0]), WAYMARK_QUIZZES_DIR=str(content_dirs[1]))
    result = subprocess.run([sys.executable, "-m", "flask", "certificates", "issue-missing",
                             "--pdf-dir", str(tmp_path / "pdfs")], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (certificate,) = certificates()
    assert (tmp_path / "pdfs" / f"{certificate.code}.pdf").exists()
    assert (tmp_path / "instance" / "certificate_signing_key.pem").exists()


def test_a_complete_officer_costs_one_statement_per_progress_event(app, client, certificate,
                                                                   officer):
    """Another passed final or a lesson read again by a certified officer who is not due:
    the newest completion and its certificate, read together, are the whole check."""
    from learning.certificates.service import record_completion

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    user_id, course_id, code = officer.id, certificate.course_id, certificate.code
    db.session.expire_all()
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        found = record_completion(user_id, course_id)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert found is not None and found.code == code
    progress_changed.send("assessments", user_id=user_id, course_id=course_id)
    assert [c.code for c in certificates()] == [code]  # nothing new issued


def test_a_completion_left_without_its_certificate_gets_it_on_the_next_event(
        client, certificate, officer):
    code, course_id = certificate.code, certificate.course_id
    db.session.execute(sa.delete(Certificate))
    db.session.commit()
    progress_changed.send("progress", user_id=officer.id, course_id=course_id)
    (issued,) = certificates()
    assert issued.code != code and issued.completion_id is not None
    assert db.session.get(Completion, issued.completion_id).cycle == 0


def test_may_complete_ends_the_check_only_when_nothing_can_be_recorded(client, officer):
    """One read decides whether a progress event can complete the course; every answer
    it gives is checked against the state that makes it so."""
    from learning.catalogue.models import Course
    from learning.certificates.rules import may_complete

    course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == "field-basics"))
    today = utcnow().date()
    assert not may_complete(officer.id, course_id, today)  # nothing read yet
    assert not may_complete(officer.id, 999_999, today)  # no such course
    for slug in LESSONS[:-1]:
        client.post(f"/courses/field-basics/{slug}/")
    assert not may_complete(officer.id, course_id, today)  # one lesson still unread
    client.post(f"/courses/field-basics/{LESSONS[-1]}/")
    assert may_complete(officer.id, course_id, today)  # the final decides: a full check
    row = db.session.scalars(sa.select(LessonProgress)).first()
    row.lesson_hash = "0" * len(row.lesson_hash)  # read before a substantive change
    db.session.commit()
    assert not may_complete(officer.id, course_id, today)
    client.post(f"/courses/field-basics/{row.lesson_slug}/")  # read again
    pass_final(client)
    (issued,) = certificates()
    assert not may_complete(officer.id, course_id, today)  # complete and not due
    assert may_complete(officer.id, course_id, issued.expires_on)  # expired: recertify
    issued.revoked_at = utcnow()
    db.session.commit()
    assert may_complete(officer.id, course_id, today)  # revoked: recertify
    db.session.execute(sa.delete(Certificate))
    db.session.commit()
    assert may_complete(officer.id, course_id, today)  # a completion without its certificate


def test_a_final_passed_before_the_lessons_costs_one_read_after_the_grade(
        client, officer, count_statements):
    """The completion check after such a submit is one statement (on PostgreSQL outside a
    transaction); the final itself is kept, so the last lesson read completes the course."""
    from learning.certificates.rules import may_complete

    attempt_id, location = start(client)
    may_complete(officer.id, attempt_row(attempt_id).course_id, utcnow().date())  # the
    # version's lessons are read once per process: here, before counting
    form = correct_form(attempt_row(attempt_id))
    with count_statements() as counter:
        client.post(location + "submit", data=form)
    statements = [" ".join(s.split())[:15] for s in counter.statements]
    assert statements[-2:] == ["UPDATE attempt ", "SELECT course.c"], statements
    assert attempt_row(attempt_id).passed and not certificates()
    read_all_lessons(client)
    assert len(certificates()) == 1
