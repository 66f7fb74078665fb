"""What an officer should do next: their assignments by urgency, then every other course.

Read only. The officer's own assignments go through the same pure ``evaluate`` that
managers' compliance pages use, so both always agree on "overdue" or "expiring".
The page costs at most six small queries, however many courses or assignments there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from learning.accounts.models import User
from learning.agency.compliance import Held, Requirement, evaluate
from learning.agency.models import Assignment, AssignmentTarget
from learning.assessments.models import Attempt
from learning.catalogue.models import Course, CourseVersion
from learning.catalogue.service import published_courses
from learning.certificates.models import Certificate
from learning.certificates.service import newest_unrevoked
from learning.extensions import db
from learning.progress.service import (
    CourseProgress,
    completed_by_course,
    course_progress,
    next_lesson_slug,
)

# Most urgent first; ties go to the earlier due date.
URGENCY = {"overdue": 0, "expired": 1, "expiring": 2, "in_progress": 3, "not_started": 3,
           "completed": 4}


@dataclass(frozen=True)
class TrainingItem:
    """One course on the officer's page, with its assignment state when assigned."""

    course: Course
    version: CourseVersion
    progress: CourseProgress
    certificate: Certificate | None  # newest valid (not revoked, not expired) one
    next_lesson: str | None
    state: str | None = None  # compliance state; None when not assigned
    due_on: date | None = None
    days_left: int | None = None

    @property
    def assigned(self) -> bool:
        return self.state is not None

    @property
    def certified(self) -> bool:
        return self.certificate is not None


@dataclass(frozen=True)
class MyTraining:
    """Assigned courses by urgency, then the rest of the catalogue (alphabetical)."""

    assigned: list[TrainingItem]
    others: list[TrainingItem]


def requirements_of(user: User) -> list[Requirement]:
    """The active assignments of the user's agency naming the user or the user's unit."""
    if user.agency_id is None:
        return []
    targets = [AssignmentTarget.user_id == user.id]
    if user.unit_id is not None:
        targets.append(AssignmentTarget.unit_id == user.unit_id)
    rows = db.session.scalars(
        sa.select(Assignment).where(
            Assignment.agency_id == user.agency_id, Assignment.active.is_(True),
            sa.exists().where(AssignmentTarget.assignment_id == Assignment.id,
                              sa.or_(*targets))))
    return [Requirement(a.id, a.course_id, "", a.due_on, a.recurrence, a.every_months,
                        frozenset(), frozenset({user.id})) for a in rows]


def _valid(certificate: Certificate | None, today: date) -> Certificate | None:
    return certificate if certificate and certificate.status(today) == "valid" else None


def most_urgent(requirements: list[Requirement], held: Held | None, started: bool,
                today: date, window_days: int) -> tuple[str, date] | None:
    """The most urgent (state, due date) over the assignments of one course (pure)."""
    evaluated = [evaluate(r, held, started, today, window_days) for r in requirements]
    return min(evaluated, key=lambda pair: (URGENCY[pair[0]], pair[1]), default=None)


def my_training(user: User, today: date, window_days: int) -> MyTraining:
    """The officer's home page: assigned courses by urgency with due dates, then the rest."""
    by_course: dict[int, list[Requirement]] = {}
    for requirement in requirements_of(user):
        by_course.setdefault(requirement.course_id, []).append(requirement)
    done = completed_by_course(user.id)
    newest = newest_unrevoked(user.id)
    held = {course_id: Held(c.issued_on, c.effective_expiry) for course_id, c in newest.items()}
    attempted = set(db.session.scalars(
        sa.select(Attempt.course_id).distinct().where(Attempt.user_id == user.id))) \
        if by_course else set()
    assigned, others = [], []
    for course, version in published_courses():
        progress = course_progress(version, done.get(course.id, {}))
        item = dict(course=course, version=version, progress=progress,
                    certificate=_valid(newest.get(course.id), today),
                    next_lesson=next_lesson_slug(version, progress))
        started = bool(done.get(course.id)) or course.id in attempted
        found = most_urgent(by_course.get(course.id, []), held.get(course.id), started, today,
                            window_days)
        if found is None:
            others.append(TrainingItem(**item))
            continue
        state, due_on = found
        assigned.append(TrainingItem(**item, state=state, due_on=due_on,
                                     days_left=(due_on - today).days))
    assigned.sort(key=lambda i: (URGENCY[i.state], i.due_on, i.version.title))
    return MyTraining(assigned, others)
