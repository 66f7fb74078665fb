"""Course-wide checks run by the loader after files parse: item writing, topics, currency."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from learning.content.currency import check_currency
from learning.content.itemwriting import check_item_writing
from learning.content.model import Lesson
from learning.content.problems import Problem
from learning.content.quiz import QuizSet
from learning.content.topics import check_topics


def check_course_quality(lessons: Iterable[Lesson], lesson_slugs: set[str], quizzes: QuizSet,
                         review_every: int | None, today: date | None = None) -> list[Problem]:
    """Problems that need the whole course: weak items, bad topic links, lessons due review."""
    lessons = list(lessons)
    return (check_item_writing(quizzes) + check_topics(quizzes, lesson_slugs)
            + check_currency(lessons, review_every, today or date.today()))
