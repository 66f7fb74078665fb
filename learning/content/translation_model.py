"""What a course's translations are, once loaded: lessons, course texts, banks, assessments.

Plain data, no parsing (that is learning/content/translations.py), so the course model
can hold them without importing the loaders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from learning.content.assessment_translation import AssessmentTranslation
from learning.content.questions import Question


@dataclass(frozen=True)
class LessonTranslation:
    """One lesson in another language."""

    slug: str
    language: str
    path: str
    title: str
    objectives: tuple[str, ...]
    content_warning: str | None
    body: str
    body_line: int
    translates: str
    stale: bool
    sources: tuple[str, ...] = ()  # cited in the translation's language; () keeps the source's


@dataclass(frozen=True)
class CourseTranslation:
    """The course's own texts (title, summary, objectives, overview) in another language."""

    language: str
    path: str
    title: str
    summary: str
    objectives: tuple[str, ...]
    module_titles: tuple[str, ...]
    overview: str
    translates: str
    stale: bool


@dataclass(frozen=True)
class BankTranslation:
    """A question bank in another language; its questions carry the source's keys."""

    language: str
    path: str
    source_path: str
    translates: str
    stale: bool
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Translations:
    """Every translation of a course, and what officers see when one is stale."""

    lessons: tuple[LessonTranslation, ...] = ()
    courses: tuple[CourseTranslation, ...] = ()
    banks: tuple[BankTranslation, ...] = ()
    stale_policy: str = "notice"
    assessments: tuple[AssessmentTranslation, ...] = ()

    def lesson(self, slug: str, language: str) -> LessonTranslation | None:
        return next((t for t in self.lessons if t.slug == slug and t.language == language),
                    None)

    def course(self, language: str) -> CourseTranslation | None:
        return next((t for t in self.courses if t.language == language), None)

    def stale(self) -> tuple[str, ...]:
        """Paths of stale translations, for trainers."""
        items: Iterable[Any] = (*self.lessons, *self.courses, *self.banks, *self.assessments)
        return tuple(sorted(t.path for t in items if t.stale))

    def questions(self, language: str) -> dict[str, Question]:
        """Translated questions of one language by id, scenario parts included."""
        found: dict[str, Question] = {}
        for bank in self.banks:
            if bank.language == language:
                for question in bank.questions:
                    found[question.id] = question
                    found.update({part.id: part for part in question.parts})
        return found
