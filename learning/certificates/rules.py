"""The completion rule: when an officer has completed a course, or is due to recertify.

``latest_completion`` reads an officer's newest completion and its certificate in one
statement; most progress events (a lesson re-read, another passed final) come from
officers who are complete and not due, for whom that one read is the whole answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from learning.assessments.models import SUBMITTED, Attempt
from learning.catalogue.models import Course, CourseVersion, Lesson
from learning.catalogue.pages import version_cache
from learning.certificates.models import Certificate, Completion
from learning.extensions import db
from learning.ops.dbconnections import DriverStatement
from learning.progress.models import LessonProgress
from learning.progress.service import lessons_read, lessons_read_column
from learning.timeutil import utcnow

RECERTIFY_WITHIN_DAYS = 90


@dataclass(frozen=True)
class RuleCheck:
    """How far an officer is from meeting a course's completion rule."""

    cycle: int  # 0 for the first completion, n for the n-th recertification
    lessons_needed: tuple[str, ...]
    assessment: str | None
    passing_attempt: Attempt | None
    open: bool  # False when the officer is already complete and not due to recertify

    @property
    def met(self) -> bool:
        return self.open and not self.lessons_needed and (
            self.assessment is None or self.passing_attempt is not None)


_LATEST = (sa.select(Completion, Certificate)
           .outerjoin(Certificate, Certificate.completion_id == Completion.id)
           .where(Completion.user_id == sa.bindparam("user_id"),
                  Completion.course_id == sa.bindparam("course_id"))
           .order_by(Completion.cycle.desc()).limit(1))


def latest_completion(user_id: int, course_id: int
                      ) -> tuple[Completion | None, Certificate | None]:
    """An officer's newest completion of a course and its certificate (None, None if none).

    A completion without a certificate can only be the newest one: a new cycle opens
    only once the last completion's certificate exists (see ``check_rule``).
    """
    row = db.session.execute(_LATEST, {"user_id": user_id, "course_id": course_id}).first()
    return (row[0], row[1]) if row is not None else (None, None)


def current_version(course_id: int) -> CourseVersion | None:
    """The current published version of a course."""
    return db.session.scalar(sa.select(CourseVersion).join(
        Course, Course.current_version_id == CourseVersion.id).where(Course.id == course_id))


@dataclass(frozen=True)
class RuleVersion:
    """What the completion rule reads of a version (all of it fixed once published)."""

    id: int
    course_id: int
    completion_lessons: str
    completion_assessment: str | None


_CURRENT_VERSION_ID = sa.select(Course.current_version_id).where(
    Course.id == sa.bindparam("course_id"))


def current_rule_version(course_id: int) -> RuleVersion | None:
    """The rule's view of a course's current version: one small read, the rest kept per
    process (a version never changes, only which one is current)."""
    version_id = db.session.execute(_CURRENT_VERSION_ID, {"course_id": course_id}).scalar()
    return None if version_id is None else rule_version(version_id)


def rule_version(version_id: int) -> RuleVersion:
    """The rule's view of a published version, read once per process."""
    def build() -> RuleVersion:
        version = db.session.get(CourseVersion, version_id)
        return RuleVersion(version.id, version.course_id, version.completion_lessons,
                           version.completion_assessment)

    return version_cache().get_or_build(("rule version", version_id), build)


def due_for_recertification(certificate: Certificate | None, today: date,
                            window_days: int | None = None) -> bool:
    """True when the certificate is revoked, expired or expires within the window.

    A recertification asked for by a course change (``recertify_by``) counts as an expiry.
    """
    if certificate is None:
        return False
    return _due(certificate.revoked_at, certificate.recertify_by, certificate.expires_on,
                today, window_days)


def _due(revoked_at: datetime | None, recertify_by: date | None, expires_on: date | None,
         today: date, window_days: int | None = None) -> bool:
    if revoked_at is not None or recertify_by is not None:
        return True
    if window_days is None:
        window_days = current_app.config.get("EXPIRING_WITHIN_DAYS", RECERTIFY_WITHIN_DAYS)
    return expires_on is not None and expires_on - timedelta(days=window_days) <= today


def version_lessons(version_id: int) -> tuple[tuple[str, str | None, bool], ...]:
    """(slug, reading hash, needed to recertify) of a version's lessons, read once per
    process: a published version never changes."""
    return version_cache().get_or_build(("rule lessons", version_id), lambda: tuple(
        tuple(row) for row in db.session.execute(
            sa.select(Lesson.slug, Lesson.reading_hash, Lesson.recertification)
            .where(Lesson.version_id == version_id).order_by(Lesson.id))))


_completion, _certificate = Completion.__table__, Certificate.__table__
_course = Course.__table__
_newest = _completion.alias("newest")
_LATEST_ID = (sa.select(_newest.c.id)
              .where(_newest.c.user_id == sa.bindparam("user_id"),
                     _newest.c.course_id == _course.c.id)
              .order_by(_newest.c.cycle.desc()).limit(1).correlate(_course).scalar_subquery())
_RULE_STATE = (
    sa.select(_course.c.current_version_id, _completion.c.id, _certificate.c.id,
              _certificate.c.revoked_at, _certificate.c.recertify_by,
              _certificate.c.expires_on, lessons_read_column(sa.bindparam("user_id")))
    .select_from(_course.outerjoin(_completion, _completion.c.id == _LATEST_ID)
                 .outerjoin(_certificate, _certificate.c.completion_id == _completion.c.id))
    .where(_course.c.id == sa.bindparam("course_id")))


def may_complete(user_id: int, course_id: int, today: date) -> bool:
    """False when one read shows the rule cannot be newly met: the officer is complete and
    not due, or a lesson of a first completion is still unread. True sends the caller to
    ``record_completion``, which reads everything again in its own transaction.

    Most progress events (a final passed before the lessons are read, a lesson re-read)
    end here: one statement, outside a transaction (no BEGIN and ROLLBACK on PostgreSQL).
    """
    row = DriverStatement.of(_RULE_STATE).first({"user_id": user_id, "course_id": course_id})
    if row is None or row[0] is None:
        return False  # no such course, or nothing published
    version_id, completion_id, certificate_id, revoked_at, recertify_by, expires_on, read = row
    if completion_id is not None:
        return certificate_id is None or _due(revoked_at, recertify_by, expires_on, today)
    if rule_version(version_id).completion_lessons != "all":
        return True
    done = lessons_read(read)
    return all(done.get(slug) == reading_hash
               for slug, reading_hash, _recertification in version_lessons(version_id))


def check_rule(user_id: int, version: CourseVersion | RuleVersion, today: date | None = None,
               latest: tuple[Completion | None, Certificate | None] | None = None,
               *, stop_at_lessons: bool = False) -> RuleCheck:
    """Evaluate the version's completion rule for an officer.

    First completion: every lesson completed on its current reading hash (a lesson
    changed substantively must be read again) and the final assessment passed. A
    recertification (when the last certificate is expiring, expired, revoked or
    asked to recertify by a course change) needs the final assessment passed again
    after the last completion, the lessons marked ``recertification: true``
    completed after it, and every lesson read before a substantive change re-read.
    ``latest`` is ``latest_completion``'s answer when the caller has read it already.
    With ``stop_at_lessons``, lessons still needed end the check: the passing attempt
    is then not looked for (``passing_attempt`` is None), as the rule is not met anyway.
    """
    today = today or utcnow().date()
    last, certificate = latest if latest is not None else \
        latest_completion(user_id, version.course_id)
    cycle, since = 0, None
    if last is not None:
        cycle, since = last.cycle + 1, last.completed_at
        if not due_for_recertification(certificate, today):
            return RuleCheck(cycle, (), version.completion_assessment, None, open=False)

    lessons = version_lessons(version.id)
    done = {slug: (lesson_hash, completed_at) for slug, lesson_hash, completed_at in
            db.session.execute(sa.select(LessonProgress.lesson_slug, LessonProgress.lesson_hash,
                                         LessonProgress.completed_at)
                               .where(LessonProgress.user_id == user_id,
                                      LessonProgress.course_id == version.course_id))}
    needed = []
    if version.completion_lessons == "all":
        for slug, reading_hash, for_recertification in lessons:
            record = done.get(slug)
            if since is not None and not for_recertification:
                if record is not None and record[0] != reading_hash:
                    needed.append(slug)  # changed substantively since it was read
                continue
            if record is None or record[0] != reading_hash or (since and record[1] <= since):
                needed.append(slug)

    passing = None
    if version.completion_assessment and not (needed and stop_at_lessons):
        query = (sa.select(Attempt).where(
            Attempt.user_id == user_id, Attempt.course_id == version.course_id,
            Attempt.assessment_slug == version.completion_assessment,
            Attempt.status == SUBMITTED, Attempt.passed.is_(True))
            .order_by(Attempt.percent.desc(), Attempt.submitted_at).limit(1))
        if since is not None:
            query = query.where(Attempt.submitted_at > since)
        passing = db.session.scalar(query)
    return RuleCheck(cycle, tuple(needed), version.completion_assessment, passing, open=True)
