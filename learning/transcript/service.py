"""Build an officer's transcript from progress, attempts and certificates (read only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from learning.assessments.models import SUBMITTED, Attempt
from learning.catalogue.models import Course, CourseVersion
from learning.catalogue.service import published_courses
from learning.certificates.models import Certificate
from learning.certificates.service import due_for_recertification
from learning.extensions import db
from learning.progress.service import completed_by_course, course_progress, next_lesson_slug

STATUSES = ("not_started", "in_progress", "completed", "expiring", "expired")


@dataclass(frozen=True)
class ModuleProgress:
    """Lessons done in one module."""

    title: str
    done: int
    total: int


@dataclass(frozen=True)
class CourseRecord:
    """One line of the transcript."""

    course: Course
    version: CourseVersion
    status: str
    modules: list[ModuleProgress]
    lessons_done: int
    lessons_total: int
    best_score: float | None
    certificate: Certificate | None
    certificates: list[Certificate]
    next_lesson: str | None
    next_step: str  # read | assessment | recertify | none


def course_status(has_progress: bool, certificate: Certificate | None, today: date,
                  window_days: int) -> str:
    """not_started, in_progress, completed, expiring or expired."""
    if certificate is not None and certificate.revoked_at is None:
        if certificate.status(today) == "expired":  # printed expiry or recertification deadline
            return "expired"
        if due_for_recertification(certificate, today, window_days):
            return "expiring"
        return "completed"
    return "in_progress" if has_progress else "not_started"


def transcript(user_id: int, today: date, window_days: int) -> list[CourseRecord]:
    """Every published course with the officer's status, progress, scores and certificates."""
    done = completed_by_course(user_id)
    best = dict(db.session.execute(
        sa.select(Attempt.course_id, sa.func.max(Attempt.percent))
        .where(Attempt.user_id == user_id, Attempt.status == SUBMITTED, Attempt.final.is_(True))
        .group_by(Attempt.course_id)).all())
    attempted = set(db.session.scalars(sa.select(Attempt.course_id).where(
        Attempt.user_id == user_id)))
    held: dict[int, list[Certificate]] = {}
    for certificate in db.session.scalars(
            sa.select(Certificate).where(Certificate.user_id == user_id)
            .order_by(Certificate.issued_on.desc(), Certificate.id.desc())):
        held.setdefault(certificate.course_id, []).append(certificate)

    records = []
    for course, version in published_courses():
        completed = done.get(course.id, {})
        progress = course_progress(version, completed)
        modules = [
            ModuleProgress(module["title"],
                           sum(1 for item in module["lessons"]
                               if item["slug"] in progress.completed),
                           len(module["lessons"]))
            for module in version.outline
        ]
        certificates = held.get(course.id, [])
        current = next((c for c in certificates if c.revoked_at is None), None)
        status = course_status(bool(completed) or course.id in attempted, current, today,
                               window_days)
        next_slug = next_lesson_slug(version, progress)
        if status in ("expiring", "expired"):
            step = "recertify"
        elif status == "completed":
            step = "none"
        elif next_slug:
            step = "read"
        else:
            step = "assessment" if version.completion_assessment else "none"
        records.append(CourseRecord(course, version, status, modules, progress.done,
                                    progress.total, best.get(course.id), current, certificates,
                                    next_slug, step))
    return records
