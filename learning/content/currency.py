"""Currency: lessons carry the date a trainer last checked them, and fall due for review.

Law and practice change, so a lesson reviewed on ``reviewed`` is due again
``review_every`` months later (the lesson's own period, else the course's).
Pure functions with an explicit ``today``, so tests run on fixed dates.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from learning.content.model import Course, Lesson
from learning.content.problems import Problem

DUE_SOON_DAYS = 60


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ReviewStatus:
    """Where one lesson stands: its review date, period and the date it falls due."""

    lesson: Lesson
    reviewed: date | None
    every: int | None
    due: date | None

    def state(self, today: date, within_days: int = DUE_SOON_DAYS) -> str:
        """'undated', 'overdue', 'due_soon', or 'current'."""
        if self.reviewed is None:
            return "undated"
        if self.due is None:
            return "current"
        if today > self.due:
            return "overdue"
        return "due_soon" if self.due <= today + timedelta(days=within_days) else "current"


def review_status(lesson: Lesson, course_every: int | None) -> ReviewStatus:
    """The lesson's review date, period (its own, else the course's) and due date."""
    every = lesson.review_every or course_every
    due = add_months(lesson.reviewed, every) if lesson.reviewed and every else None
    return ReviewStatus(lesson, lesson.reviewed, every, due)


def check_currency(lessons: Iterable[Lesson], course_every: int | None,
                   today: date) -> list[Problem]:
    """Warnings for lessons without a review date, past their due date, or dated ahead."""
    problems = []
    for lesson in lessons:
        status = review_status(lesson, course_every)
        if status.reviewed is None:
            problems.append(Problem(lesson.path, 1, "lesson has no 'reviewed: YYYY-MM-DD' date "
                                    "(when a trainer last checked it)", "warning"))
        elif status.reviewed > today:
            problems.append(Problem(lesson.path, lesson.reviewed_line, f"reviewed date "
                                    f"{status.reviewed} is in the future", "warning"))
        elif status.state(today) == "overdue":
            problems.append(Problem(
                lesson.path, lesson.reviewed_line, f"lesson past its review date (reviewed "
                f"{status.reviewed}, every {status.every} months, due {status.due})", "warning"))
    return problems


def stale_lessons(course: Course, today: date,
                  within_days: int = DUE_SOON_DAYS) -> list[tuple[ReviewStatus, str]]:
    """Lessons without a date, past due, or due within ``within_days``, soonest first."""
    found = []
    for lesson in course.lessons:
        status = review_status(lesson, course.review_every)
        state = status.state(today, within_days)
        if state != "current":
            found.append((status, state))
    return sorted(found, key=lambda item: (item[0].due or date.min, item[0].lesson.path))
