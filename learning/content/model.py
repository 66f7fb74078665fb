"""Frozen dataclasses that describe parsed content, independent of storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from learning.content.problems import Problem, Severity
from learning.content.quiz import QuizSet
from learning.content.translation_model import Translations

__all__ = ["Asset", "Course", "Lesson", "Module", "Problem", "Severity"]

DEFAULT_REVIEW_MONTHS = 24  # a course that says nothing has its lessons reviewed every 2 years

@dataclass(frozen=True)
class Asset:
    """An image or other file a lesson refers to, stored by content hash."""

    path: str  # relative to the course folder, with forward slashes
    sha256: str
    data: bytes = field(repr=False)

    @property
    def extension(self) -> str:
        return self.path.rsplit(".", 1)[-1].lower()


@dataclass(frozen=True)
class Lesson:
    """One lesson file: front matter plus its Markdown body."""

    slug: str
    path: str
    title: str
    estimated_minutes: int
    objectives: tuple[str, ...]
    sources: tuple[str, ...]
    content_warning: str | None
    body: str
    body_line: int  # file line on which the body starts
    content_hash: str
    recertification: bool = False
    check: str | None = None  # slug of a knowledge check shown at the end of the lesson
    reviewed: date | None = None  # when a trainer last checked the lesson against the law
    review_every: int | None = None  # months; None: the course's period
    reviewed_line: int = 1


@dataclass(frozen=True)
class Module:
    """A titled group of lessons, in reading order."""

    title: str
    lesson_slugs: tuple[str, ...]


@dataclass(frozen=True)
class Course:
    """A whole course folder: metadata, overview, modules and lessons."""

    slug: str
    path: str
    title: str
    summary: str
    audience: tuple[str, ...]
    objectives: tuple[str, ...]
    estimated_minutes: int
    pass_mark: int
    certificate_validity_months: int | None
    prerequisites: tuple[str, ...]
    language: str
    sources: tuple[str, ...]
    modules: tuple[Module, ...]
    lessons: tuple[Lesson, ...]  # reading order
    overview: str
    overview_line: int
    assets: tuple[Asset, ...]
    files: tuple[tuple[str, str], ...]  # (path relative to the content root, text)
    content_hash: str
    quizzes: QuizSet = field(default_factory=QuizSet)
    completion_lessons: str = "all"  # "all": every lesson marked complete; "none"
    completion_assessment: str | None = None  # the final assessment to pass, if any
    # months between reviews of each lesson; None: the course needs no periodic review
    review_every: int | None = DEFAULT_REVIEW_MONTHS
    jurisdictions: tuple[str, ...] = ()  # declared: finals are checked for each of them
    translations: Translations = field(default_factory=Translations)  # sibling *.<lang>.* files

    def lesson(self, slug: str) -> Lesson | None:
        """Return the lesson with this slug, or None."""
        for lesson in self.lessons:
            if lesson.slug == slug:
                return lesson
        return None

    def module_of(self, slug: str) -> int:
        """Index of the module that holds the lesson."""
        for index, module in enumerate(self.modules):
            if slug in module.lesson_slugs:
                return index
        raise KeyError(slug)
