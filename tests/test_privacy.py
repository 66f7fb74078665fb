"""Privacy: an officer's own data as a zip (only theirs, rate-limited), and the retention purge."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from learning.accounts.models import User
from learning.agency.models import AuditEntry
from learning.agency.service import record_audit
from learning.agency.staff import create_invitation, deactivate_officer
from learning.assessments.models import Attempt
from learning.catalogue.models import Course
from learning.certificates.models import Certificate, Completion
from learning.certificates.service import new_certificate_code
from learning.extensions import db
from learning.privacy.retention import purge_departed
from learning.privacy.service import SECTIONS
from learning.progress.models import LessonProgress
from learning.timeutil import utcnow
from tests.clients import browsers  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("browsers")


def give_history(officer: User, course: Course, answer: str) -> Certificate:
    """A read lesson, a graded attempt with a saved answer, a completion and a certificate."""
    db.session.add(LessonProgress(user_id=officer.id, course_id=course.id,
                                  lesson_slug="first-steps", version_id=course.current_version_id,
                                  lesson_hash="0" * 64))
    attempt = Attempt(user_id=officer.id, course_id=course.id,
                      version_id=course.current_version_id, assessment_slug="final", final=True,
                      status="submitted", seed=1, question_ids=["q1"],
                      answers={"q1": {"v": answer, "s": 1}}, pass_mark=70, score=1.0,
                      max_score=1, percent=100.0, passed=True, submitted_at=utcnow())
    db.session.add(attempt)
    db.session.flush()
    completion = Completion(user_id=officer.id, course_id=course.id,
                            version_id=course.current_version_id, attempt_id=attempt.id,
                            score=100.0)
    db.session.add(completion)
    db.session.flush()
    certificate = Certificate(
        code=new_certificate_code(), completion_id=completion.id, user_id=officer.id,
        course_id=course.id, version_id=course.current_version_id,
        holder_name=officer.display_name, course_slug=course.slug, course_title="Field basics",
        version_number=1, content_hash="0" * 64, score=100.0, issued_on=date(2024, 3, 1),
        expires_on=None)
    db.session.add(certificate)
    db.session.commit()
    return certificate


@pytest.fixture
def s(synced, agency, make_unit, make_user):
    north = make_unit(agency, "North Post")
    course = db.session.scalar(sa.select(Course))
    manager = make_user("manager", agency=agency, email="boss@a.test")
    ana = make_user("officer", agency=agency, unit=north, email="ana@a.test", name="Ana Silva")
    ben = make_user("officer", agency=agency, unit=north, email="ben@a.test", name="Ben Okafor")
    return SimpleNamespace(
        course=course, manager=manager, ana=ana, ben=ben,
        ana_cert=give_history(ana, course, "ana-answer"),
        ben_cert=give_history(ben, course, "ben-answer"))


def download(client):
    return client.post("/account/data")


def test_export_holds_every_section_and_only_that_officers_data(s, client, login_as):
    record_audit(s.manager, "attempts.grant", s.ana.email, {"note": "for ana"})
    record_audit(s.manager, "attempts.grant", s.ben.email, {"note": "for ben"})
    db.session.commit()
    login_as(s.ana)
    assert 'href="/account/data"' in client.get("/courses/").get_data(as_text=True)
    page = client.get("/account/data")
    assert page.status_code == 200 and "Download my data" in page.get_data(as_text=True)
    response = download(client)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == ["certificates/" + s.ana_cert.code + ".pdf",
                                          "data.json"]
    assert archive.read(f"certificates/{s.ana_cert.code}.pdf").startswith(b"%PDF")
    text = archive.read("data.json").decode()
    data = json.loads(text)
    assert set(data) == {"exported_at", *SECTIONS}
    assert (data["profile"]["email"], data["profile"]["display_name"]) == (
        "ana@a.test", "Ana Silva")
    assert [p["lesson"] for p in data["lesson_progress"]] == ["first-steps"]
    assert [a["answers"] for a in data["attempts"]] == [{"q1": {"v": "ana-answer", "s": 1}}]
    assert [c["code"] for c in data["certificates"]] == [s.ana_cert.code]
    assert len(data["completions"]) == 1
    assert [(e["action"], e["by"], e["details"]["note"]) for e in data["audit"]
            if e["action"] == "attempts.grant"] == [("attempts.grant", "someone else",
                                                     "for ana")]
    for other in ("ben@a.test", "Ben Okafor", "ben-answer", s.ben_cert.code, "for ben"):
        assert other not in text
    assert db.session.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc())
                             ) == "privacy.export"


def test_export_is_rate_limited_per_user(s, app, client, login_as):
    login_as(s.ana)
    assert [download(client).status_code for _ in range(4)] == [200, 200, 200, 429]
    other = app.test_client()
    other.post("/login", data={"email": s.ben.email, "password": "correct-horse-battery"})
    assert download(other).status_code == 200
    assert app.test_client().post("/account/data").status_code == 302  # signed out


# The retention purge.

def snapshot(user_id: int) -> tuple:
    db.session.expire_all()
    user = db.session.get(User, user_id)
    answers = db.session.scalars(sa.select(Attempt.answers).where(Attempt.user_id == user_id))
    names = db.session.scalars(sa.select(Certificate.holder_name)
                               .where(Certificate.user_id == user_id))
    return (user.email, user.display_name, user.password_hash, list(answers), list(names))


def audit_rows() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        sa.select(AuditEntry.id, AuditEntry.actor_id, AuditEntry.action, AuditEntry.target)
        .order_by(AuditEntry.id))]


def test_purge_anonymises_only_officers_departed_longer_than_the_retention(s, make_user,
                                                                          runner, client):
    recent = make_user("officer", agency=s.ana.agency, email="cleo@a.test", name="Cleo")
    for officer in (s.ana, recent):
        deactivate_officer(s.manager, officer.id)
    s.ana.password_hash = None
    db.session.commit()
    db.session.execute(sa.update(User).where(User.id == s.ana.id, User.active.is_(False))
                       .values(active=True))
    db.session.commit()
    create_invitation(s.manager, s.ana.id)  # a pending link, to be removed by the purge
    deactivate_officer(s.manager, s.ana.id)
    db.session.execute(sa.update(User).where(User.id == s.ana.id).values(
        deactivated_at=utcnow() - timedelta(days=365 * 7)))
    db.session.execute(sa.update(User).where(User.id == recent.id).values(
        deactivated_at=utcnow() - timedelta(days=365 * 5)))
    db.session.commit()
    before = {uid: snapshot(uid) for uid in (s.ana.id, s.ben.id, recent.id)}
    audit_before = audit_rows()

    dry = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert dry.exit_code == 0 and "Would anonymise 1 account(s)" in dry.output
    assert f"user {s.ana.id}" in dry.output
    assert {uid: snapshot(uid) for uid in before} == before and audit_rows() == audit_before

    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0 and "Anonymised 1 account(s)" in result.output
    assert snapshot(s.ana.id) == (f"purged-{s.ana.id}@invalid", f"Former officer #{s.ana.id}",
                                  None, [{}], [""])
    assert snapshot(s.ben.id) == before[s.ben.id]
    assert snapshot(recent.id) == before[recent.id]
    ana = db.session.get(User, s.ana.id)
    assert ana.purged_at is not None
    assert db.session.scalar(sa.select(Attempt.score).where(Attempt.user_id == ana.id)) == 1.0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Completion).where(
        Completion.user_id == ana.id)) == 1
    assert db.session.scalar(sa.text("SELECT count(*) FROM invitation")) == 0

    page = client.get(f"/verify/{s.ana_cert.code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Field basics" in html and "Valid" in html
    assert "Removed under the data-retention schedule" in html and "Ana Silva" not in html
    assert "2024-03-01" in html

    assert audit_rows()[:len(audit_before)] == audit_before  # append-only: nothing rewritten
    assert [row[2] for row in audit_rows()[len(audit_before):]] == ["privacy.purge"]
    assert "Anonymised 0 account(s)" in runner.invoke(args=["privacy", "purge"]).output
    assert purge_departed(years=4).user_ids == [recent.id]
