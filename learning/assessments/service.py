"""Finding assessments, starting and reviewing attempts. Only the server grades.

Saving and submitting (compare-and-set writes) are in ``answering``; their names are
imported here too, for the callers that know this module.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from learning.assessments.answering import (  # noqa: F401  (callers import them from here)
    CAS_RETRIES,
    DEADLINE_GRACE,
    AttemptRefused,
    DeadlinePassed,
    SaveResult,
    attempt_questions,
    close_attempt,
    finalise_if_expired,
    merge_answers,
    own_attempt,
    parse_answers,
    question_rng,
    save_answers,
    submit_attempt,
)
from learning.assessments.models import OPEN, SUBMITTED, Attempt
from learning.catalogue.models import Course, CourseVersion
from learning.catalogue.pages import quiz_set
from learning.catalogue.translated import title_in, translated_assessment
from learning.content.quiz import Assessment, QuizSet
from learning.extensions import db
from learning.timeutil import utcnow


@dataclass(frozen=True)
class AssessmentContext:
    """An assessment of a course's current version."""

    course_id: int
    course_slug: str
    course_title: str
    version_id: int
    assessment: Assessment
    quizzes: QuizSet


@dataclass(frozen=True)
class StartStatus:
    """Whether the officer may start an attempt now, and why not."""

    open_attempt: Attempt | None
    used: int
    attempts_left: int | None
    passed: bool
    available_at: datetime | None
    reason: str | None

    @property
    def can_start(self) -> bool:
        return self.reason is None


def find_assessment(course_slug: str, assessment_slug: str,
                    language: str | None = None) -> AssessmentContext | None:
    """An assessment of the course's current published version, or None; its words (and
    the course title) in ``language`` where the version translates them."""
    row = db.session.execute(
        sa.select(Course.id, CourseVersion.id, CourseVersion.title, CourseVersion.translations)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
        .where(Course.slug == course_slug)).first()
    if row is None:
        return None
    quizzes = quiz_set(row[1])
    assessment = quizzes.assessment(assessment_slug)
    if assessment is None:
        return None
    return AssessmentContext(row[0], course_slug, title_in(row[3], row[2], language), row[1],
                             translated_assessment(row[1], assessment, language), quizzes)


def attempts_of(user_id: int, course_id: int, assessment_slug: str) -> list[Attempt]:
    """The officer's attempts at one assessment, oldest first."""
    return list(db.session.scalars(
        sa.select(Attempt).where(Attempt.user_id == user_id, Attempt.course_id == course_id,
                                 Attempt.assessment_slug == assessment_slug)
        .order_by(Attempt.started_at, Attempt.id)))


def start_status(assessment: Assessment, attempts: list[Attempt], now: datetime) -> StartStatus:
    """Apply the attempt limit and the cooldown to the officer's attempts so far.

    The limit counts attempts since the last pass: passing closes a series, and a
    new one (to recertify when the certificate runs out) starts with a full allowance.
    Attempts a manager set aside (``grant_new_attempts``) are not counted.
    """
    open_attempt = next((a for a in attempts if a.status == OPEN), None)
    passed_at = [i for i, a in enumerate(attempts) if a.passed]
    series = attempts[passed_at[-1] + 1:] if passed_at else attempts
    used = sum(1 for a in series if a.counts_towards_limit)
    left = None if assessment.max_attempts is None else max(0, assessment.max_attempts - used)
    passed = any(a.passed for a in attempts)
    submitted = [a.submitted_at for a in attempts if a.submitted_at]
    available_at = None
    if submitted and assessment.cooldown_minutes:
        available_at = max(submitted) + timedelta(minutes=assessment.cooldown_minutes)
        if available_at <= now:
            available_at = None
    reason = None
    if open_attempt is not None:
        reason = "open"
    elif left == 0:
        reason = "no_attempts_left"
    elif available_at is not None:
        reason = "cooldown"
    return StartStatus(open_attempt, used, left, passed, available_at, reason)


def start_attempt(user_id: int, context: AssessmentContext, now: datetime | None = None,
                  jurisdiction: str | None = None, language: str | None = None) -> Attempt:
    """Start an attempt, or return the open one (a double click starts nothing twice);
    items are drawn for the officer's jurisdiction (None: general items only), and the
    attempt remembers the language it is taken in."""
    now = now or utcnow()
    attempts = attempts_of(user_id, context.course_id, context.assessment.slug)
    for attempt in attempts:
        if attempt.status == OPEN:
            finalise_if_expired(attempt, now)
    attempts = attempts_of(user_id, context.course_id, context.assessment.slug)
    status = start_status(context.assessment, attempts, now)
    if status.open_attempt is not None:
        return status.open_attempt
    if status.reason == "no_attempts_left":
        raise AttemptRefused("You have used every attempt at this assessment.")
    if status.reason == "cooldown":
        raise AttemptRefused("You can start another attempt after the waiting time.")
    seed = secrets.randbits(62)
    drawn = context.quizzes.draw(context.assessment, random.Random(seed), jurisdiction)
    limit = context.assessment.time_limit_minutes
    attempt = Attempt(
        user_id=user_id, course_id=context.course_id, version_id=context.version_id,
        assessment_slug=context.assessment.slug, final=context.assessment.final, seed=seed,
        jurisdiction=jurisdiction,
        question_ids=[q.id for q in drawn], started_at=now, answers={}, revision=0,
        deadline=now + timedelta(minutes=limit) if limit else None,
        pass_mark=context.assessment.pass_mark, status=OPEN, language=language,
    )
    db.session.add(attempt)
    try:
        db.session.commit()
    except IntegrityError:  # another request started one at the same moment: use that one
        db.session.rollback()
        existing = db.session.scalar(sa.select(Attempt).where(
            Attempt.user_id == user_id, Attempt.course_id == context.course_id,
            Attempt.assessment_slug == context.assessment.slug, Attempt.status == OPEN))
        if existing is None:
            raise
        return existing
    return attempt


# Built once (the hot paths of taking an assessment): SQLAlchemy reuses their compiled form.
def shows_answers(assessment: Assessment, attempt: Attempt, attempts_left: int | None) -> bool:
    """The review policy: may the officer see correct answers and feedback for this attempt?"""
    if attempt.status != SUBMITTED:
        return False
    if assessment.review == "answers":
        return True
    if assessment.review == "score":
        return False
    return bool(attempt.passed) or attempts_left == 0


def grant_new_attempts(user_id: int, course_id: int, assessment_slug: str) -> int:
    """Set aside an officer's submitted attempts so the attempt limit starts again.

    The attempts stay in the record (scores, answers); they only stop counting.
    Returns how many attempts were set aside.
    """
    result = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.user_id == user_id, Attempt.course_id == course_id,
               Attempt.assessment_slug == assessment_slug, Attempt.status == SUBMITTED,
               Attempt.counts_towards_limit.is_(True))
        .values(counts_towards_limit=False))
    return result.rowcount
