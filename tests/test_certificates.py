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
from learning.timeutil import utcnow
from tests.test_assessments import FINAL, attempt_row, correct_form, start

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
    pass_final(client)
    assert certificates() == []  # wrap-up changed since it was read
    client.post("/courses/field-basics/wrap-up/")  # already has a row: re-reading refreshes it
    assert len(certificates()) == 1
