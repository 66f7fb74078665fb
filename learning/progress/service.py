"""Reading and recording lesson progress."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from learning.catalogue.models import CourseVersion, Lesson
from learning.extensions import db
from learning.progress.models import LessonProgress
from learning.signals import progress_changed


@dataclass(frozen=True)
class CourseProgress:
    """How far an officer is through the current version of one course."""

    completed: frozenset[str]
    total: int

    @property
    def done(self) -> int:
        return len(self.completed)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def status(self) -> str:
        if self.total and self.done >= self.total:
            return "completed"
        return "in_progress" if self.done else "not_started"


def completed_lessons(user_id: int, course_id: int) -> set[str]:
    """Slugs of the lessons this user completed in this course (one query)."""
    return set(db.session.scalars(
        sa.select(LessonProgress.lesson_slug)
        .where(LessonProgress.user_id == user_id, LessonProgress.course_id == course_id)))


def course_progress(version: CourseVersion, completed: set[str]) -> CourseProgress:
    """Progress against the lessons of this version only."""
    slugs = {lesson["slug"] for lesson in version.flat_outline()}
    return CourseProgress(frozenset(completed & slugs), len(slugs))


def completed_by_course(user_id: int) -> dict[int, set[str]]:
    """Every completed lesson of a user, grouped by course id (one query)."""
    result: dict[int, set[str]] = {}
    rows = db.session.execute(sa.select(LessonProgress.course_id, LessonProgress.lesson_slug)
                              .where(LessonProgress.user_id == user_id))
    for course_id, slug in rows:
        result.setdefault(course_id, set()).add(slug)
    return result


def next_lesson_slug(version: CourseVersion, completed: set[str]) -> str | None:
    """The first lesson in reading order not yet completed, or None when all are."""
    for lesson in version.flat_outline():
        if lesson["slug"] not in completed:
            return lesson["slug"]
    return None


def mark_lesson_complete(user_id: int, course_id: int, lesson: Lesson) -> bool:
    """Record that a user completed a lesson; True if this call recorded it.

    Repeated or concurrent calls leave exactly one row: the unique constraint
    decides, and the loser of a race simply finds the row already there.
    """
    exists = db.session.scalar(sa.select(LessonProgress.id).where(
        LessonProgress.user_id == user_id, LessonProgress.course_id == course_id,
        LessonProgress.lesson_slug == lesson.slug))
    if exists:
        return False
    db.session.add(LessonProgress(user_id=user_id, course_id=course_id, lesson_slug=lesson.slug,
                                  version_id=lesson.version_id, lesson_hash=lesson.content_hash))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    progress_changed.send("progress", user_id=user_id, course_id=course_id)
    return True
