"""Editorial and substantive lesson changes, recertification, and the impact shown before."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.agency import compliance
from learning.agency.service import create_assignment
from learning.assessments.models import OPEN, Attempt
from learning.assessments.service import attempts_of, find_assessment, start_status
from learning.audit.models import AuditEntry
from learning.catalogue.models import Course, CourseVersion, Lesson
from learning.catalogue.publishing import PublishError, plan_publish, publish_course
from learning.certificates.models import Certificate, Completion
from learning.certificates.service import check_rule, current_version
from learning.content import load_course
from learning.extensions import db
from learning.progress.models import LessonProgress
from learning.progress.service import completed_lessons, course_progress
from learning.timeutil import utcnow
from tests.conftest import FIXTURE_CONTENT
from tests.test_assessments import start
from tests.test_certificates import certificates, pass_final, read_all_lessons

TYPO = ("The last lesson.", "The lsat lesson.")
NOTE = "The reporting duty now applies from the first contact."
NEW_PARAGRAPH = "Report every indicator to the duty officer before the end of the shift."


def edited(tmp_path: Path, *changes: tuple[str, str, str]) -> object:
    """The fixture course with (file, old, new) replacements, loaded from a copy."""
    root = tmp_path / f"content-{len(list(tmp_path.glob('content-*')))}"
    shutil.copytree(FIXTURE_CONTENT, root)
    for relative, old, new in changes:
        path = root / relative
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new, 1))
    load = load_course(root / "courses/field-basics", root / "quizzes/field-basics",
                       {"field-basics": {"first-steps", "second-steps", "hard-topics",
                                         "wrap-up"}})
    assert load.course is not None, load.problems
    return load.course


def typo_fixed(tmp_path: Path):
    return edited(tmp_path, ("courses/field-basics/wrap-up.md", *TYPO))


def substantively_changed(tmp_path: Path):
    return edited(tmp_path, ("courses/field-basics/wrap-up.md", "(course.md).",
                             f"(course.md).\n\n{NEW_PARAGRAPH}"))


def publish(files, **choices) -> CourseVersion:
    version, outcome = publish_course(files, **choices)
    db.session.commit()
    assert outcome == "created"
    return version


@pytest.fixture
def certified(client, make_user, login_as, synced, agency):
    user = make_user("officer", agency=agency, name="Certified Officer")
    login_as(user)
    read_all_lessons(client)
    pass_final(client)
    (certificate,) = certificates()
    return user, certificate


def course_id() -> int:
    return db.session.scalar(sa.select(Course.id).where(Course.slug == "field-basics"))


def final_status(user_id: int):
    context = find_assessment("field-basics", "final")
    return start_status(context.assessment, attempts_of(user_id, course_id(), "final"), utcnow())


def test_typo_fix_keeps_a_certified_officer_certified_and_complete(client, certified, tmp_path):
    user, certificate = certified
    before = final_status(user.id)
    version = publish(typo_fixed(tmp_path), significance={"wrap-up": "editorial"})

    assert version.number == 2 and version.significance == {"wrap-up": "editorial"}
    new, old = (db.session.scalar(sa.select(Lesson).where(Lesson.version_id == v,
                                                         Lesson.slug == "wrap-up"))
                for v in (version.id, certificate.version_id))
    assert new.content_hash != old.content_hash and new.reading_hash == old.reading_hash
    progress = course_progress(version, completed_lessons(user.id, course_id()))
    assert progress.status == "completed" and progress.changed == frozenset()
    assert "wrap-up" in progress.completed  # the progress row still counts
    assert not check_rule(user.id, current_version(course_id())).open  # still complete
    (still,) = certificates()
    assert still.id == certificate.id and still.recertify_by is None
    assert still.status(utcnow().date()) == "valid"
    after = final_status(user.id)
    assert (after.used, after.attempts_left, after.available_at) == (
        before.used, before.attempts_left, before.available_at)

    page = client.get("/courses/field-basics/").get_data(as_text=True)
    assert "4 of 4 lessons" in page and "to re-read" not in page
    assert "updated since you read" not in page
    lesson = client.get("/courses/field-basics/wrap-up/").get_data(as_text=True)
    assert "The lsat lesson." in lesson and "Changed since you read it" not in lesson
    assert "Certified until" in client.get("/courses/").get_data(as_text=True)


def test_substantive_change_asks_to_re_read_with_a_note_and_stays_certified(
        client, certified, tmp_path):
    user, certificate = certified
    version = publish(substantively_changed(tmp_path), notes={"wrap-up": NOTE})

    assert version.significance == {"wrap-up": "substantive"}  # the default
    page = client.get("/courses/field-basics/").get_data(as_text=True)
    assert "4 of 4 lessons · 1 lesson to re-read" in page
    assert f"Changed since you read it: {NOTE}" in page
    assert "Certified until" in client.get("/courses/").get_data(as_text=True)
    lesson = client.get("/courses/field-basics/wrap-up/").get_data(as_text=True)
    assert f"Changed since you read it: {NOTE}" in lesson
    assert f"<blockquote>{NEW_PARAGRAPH}</blockquote>" in lesson
    (still,) = certificates()
    assert still.id == certificate.id and still.status(utcnow().date()) == "valid"
    assert not check_rule(user.id, current_version(course_id())).open

    client.post("/courses/field-basics/wrap-up/")  # read again
    lesson = client.get("/courses/field-basics/wrap-up/").get_data(as_text=True)
    assert "Changed since you read it" not in lesson
    assert "to re-read" not in client.get("/courses/field-basics/").get_data(as_text=True)
    assert [c.id for c in certificates()] == [certificate.id]  # nothing new issued


def test_a_later_unchanged_version_still_shows_the_note(client, certified, tmp_path):
    publish(substantively_changed(tmp_path), notes={"wrap-up": NOTE})
    publish(edited(tmp_path, ("courses/field-basics/wrap-up.md", "(course.md).",
                              f"(course.md).\n\n{NEW_PARAGRAPH}"),
                   ("courses/field-basics/first-steps.md", "---\n", "---\n# typo\n")),
            significance={"first-steps": "editorial"})
    lesson = client.get("/courses/field-basics/wrap-up/").get_data(as_text=True)
    assert f"Changed since you read it: {NOTE}" in lesson


def test_attempt_counters_and_cooldowns_never_reset(client, make_user, login_as, synced,
                                                    tmp_path):
    user = make_user("officer")
    login_as(user)
    _attempt_id, location = start(client)
    client.post(location + "submit", data={"sequence": "1"})  # failed: 1 of 2 used
    before = final_status(user.id)
    assert (before.used, before.attempts_left) == (1, 1) and before.reason == "cooldown"

    publish(typo_fixed(tmp_path), significance={"wrap-up": "editorial"})
    publish(substantively_changed(tmp_path), recertify=True)
    publish(edited(tmp_path, ("quizzes/field-basics/final.yaml", "title: Final assessment",
                              "title: Final test")))
    after = final_status(user.id)
    assert (after.used, after.attempts_left, after.available_at, after.reason) == (
        1, 1, before.available_at, "cooldown")
    refused = client.post("/courses/field-basics/assessments/final/")
    assert refused.status_code == 302 and len(attempts_of(user.id, course_id(), "final")) == 1


def test_recertification_is_explicit_and_shows_in_compliance(
        client, certified, make_user, agency, tmp_path):
    user, certificate = certified
    manager = make_user("manager", agency=agency)
    create_assignment(manager, course_id(), utcnow().date() + timedelta(days=300), "none",
                      None, [], [user.email])
    today = utcnow().date()

    def state():
        (row,) = compliance.snapshot(manager, today, 90)
        return row.state

    assert state() == "completed"
    publish(substantively_changed(tmp_path))  # substantive alone: certificates untouched
    assert certificates()[0].recertify_by is None and state() == "completed"

    version = publish(edited(tmp_path, ("courses/field-basics/wrap-up.md", "The last lesson.",
                                        "The very last lesson.")), recertify=True)
    assert version.recertify is True
    (marked,) = certificates()
    assert marked.id == certificate.id and marked.recertify_by == today + timedelta(days=90)
    assert marked.expires_on == certificate.expires_on  # the printed record is unchanged
    assert marked.status(today) == "valid" and marked.status(marked.recertify_by) == "expired"
    assert state() == "expiring"
    rule = check_rule(user.id, version)
    # the changed lesson, and the one the course always asks to re-read to recertify
    assert rule.open and rule.cycle == 1 and rule.lessons_needed == ("hard-topics", "wrap-up")
    publish_row = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "content.publish").order_by(AuditEntry.id.desc())).first()
    assert publish_row.details["recertify"] is True
    assert publish_row.details["certificates_marked"] == 1

    for attempt in db.session.scalars(sa.select(Attempt)):  # past the 30-minute cooldown
        attempt.submitted_at -= timedelta(hours=1)
    db.session.commit()
    client.post("/courses/field-basics/hard-topics/")
    client.post("/courses/field-basics/wrap-up/")
    pass_final(client)
    renewed = [c for c in certificates() if c.id != certificate.id]
    assert len(renewed) == 1 and renewed[0].version_number == version.number
    assert db.session.scalar(sa.select(sa.func.max(Completion.cycle))) == 1
    assert state() == "completed"


def test_bad_choices_publish_nothing(app_ctx, synced, tmp_path):
    files = typo_fixed(tmp_path)
    for choice in ({"significance": {"first-steps": "editorial"}},  # not changed
                   {"significance": {"wrap-up": "cosmetic"}},
                   {"notes": {"wrap-up": "x"}, "significance": {"wrap-up": "editorial"}},
                   {"origin": "somewhere"}):
        with pytest.raises(PublishError):
            publish_course(files, **choice)
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion)) == 1


def test_impact_figures_on_a_fixture(app_ctx, synced, make_user, tmp_path, count_statements):
    cid = course_id()
    v1 = current_version(cid)
    wrap_up = db.session.scalar(sa.select(Lesson).where(Lesson.version_id == v1.id,
                                                        Lesson.slug == "wrap-up"))
    officers = [make_user("officer") for _ in range(6)]
    for officer in officers[:3]:  # read wrap-up as it is now: asked to re-read if substantive
        db.session.add(LessonProgress(user_id=officer.id, course_id=cid, lesson_slug="wrap-up",
                                      version_id=v1.id, lesson_hash=wrap_up.reading_hash))
    db.session.add(LessonProgress(user_id=officers[3].id, course_id=cid, lesson_slug="wrap-up",
                                  version_id=v1.id, lesson_hash="0" * 64))  # must re-read anyway
    for officer in officers[:5]:
        db.session.add(LessonProgress(user_id=officer.id, course_id=cid,
                                      lesson_slug="first-steps", version_id=v1.id,
                                      lesson_hash="1" * 64))
    db.session.commit()
    v2 = publish(edited(tmp_path, ("courses/field-basics/first-steps.md", "---\n",
                                   "---\n# note\n")), significance={"first-steps": "editorial"})
    for n, officer in enumerate(officers[:3]):  # two open on the current version, one older
        db.session.add(Attempt(user_id=officer.id, course_id=cid,
                               version_id=v1.id if n == 2 else v2.id, assessment_slug="final",
                               final=True, status=OPEN, seed=n, question_ids=[], answers={},
                               pass_mark=80))
    db.session.add(Attempt(user_id=officers[4].id, course_id=cid, version_id=v2.id,
                           assessment_slug="check-basics", status=OPEN, seed=9, question_ids=[],
                           answers={}, pass_mark=0))
    today = utcnow().date()
    for n, (expires, revoked) in enumerate([(today + timedelta(days=30), False),
                                            (None, False), (today, False),
                                            (today + timedelta(days=30), True)]):
        completion = Completion(user_id=officers[n].id, course_id=cid, version_id=v1.id)
        db.session.add(completion)
        db.session.flush()
        db.session.add(Certificate(
            code=f"{n:032x}", completion_id=completion.id, user_id=officers[n].id,
            course_id=cid, version_id=v1.id, holder_name="X", course_slug="field-basics",
            course_title="Field basics", version_number=1, content_hash=v1.content_hash,
            issued_on=today - timedelta(days=10), expires_on=expires,
            revoked_at=utcnow() if revoked else None))
    db.session.commit()

    files = edited(tmp_path, ("courses/field-basics/first-steps.md", "---\n", "---\n# note\n"),
                   ("courses/field-basics/wrap-up.md", "The last lesson.", "The final lesson."),
                   ("quizzes/field-basics/final.yaml", "title: Final assessment", "title: Final"))
    with count_statements() as counter:
        plan = plan_publish(files)
    assert [(c.slug, c.kind) for c in plan.changes] == [("wrap-up", "changed")]
    (change,) = plan.changes
    assert "-The last lesson. Back to the [overview](course.md).\n" in change.diff
    assert "+The final lesson. Back to the [overview](course.md).\n" in change.diff
    assert change.passages == ["The final lesson. Back to the [overview](course.md)."]
    assert plan.rereaders == {"wrap-up": 3}
    assert plan.open_attempts == {"final": 2, "check-basics": 1}
    assert plan.certificates == 2  # valid: not the expired one, not the revoked one
    assert plan.quizzes_changed == ["quizzes/field-basics/final.yaml"]
    assert not plan.course_changed and plan.current.id == v2.id
    assert counter.count <= 10  # grouped counts, not a query per officer
