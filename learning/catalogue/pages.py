"""What a lesson page shows that is the same for every reader, cached per immutable version.

A published version never changes, so everything derived from it (the lesson's
place in the outline, its neighbours, and its rendered article for a locale) is
built once per process and reused. A request then needs only the course's
current version id and the reader's own progress from the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from learning.catalogue.models import Course, CourseVersion, Lesson
from learning.content.problems import Problem
from learning.content.quiz import QuizSet, load_quizzes
from learning.extensions import db


@dataclass(frozen=True)
class LessonPage:
    """A lesson of one version with its place in the course."""

    course_id: int
    course_slug: str
    version_id: int
    version_number: int
    course_title: str
    language: str  # the course's own language (translations: catalogue/translated.py)
    lesson: Lesson  # detached; read-only
    total: int
    module_title: str
    previous: dict[str, Any] | None
    following: dict[str, Any] | None
    lesson_hashes: dict[str, str]  # slug -> current reading hash, for every lesson
    translations: dict[str, Any] | None = None  # the version's summary (course_text.page_in)


class VersionCache:
    """A small thread-safe LRU map for values derived from immutable versions."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_build(self, key: tuple, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def peek(self, key: tuple) -> Any:
        """The value kept for ``key`` (None when there is none), without building it."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _app_cache(name: str, size: int, app: Flask | None = None) -> VersionCache:
    """The app's cache called ``name``, made on first use (not on every call)."""
    extensions = (app or current_app).extensions
    cache = extensions.get(name)
    if cache is None:
        cache = extensions.setdefault(name, VersionCache(size))
    return cache


@dataclass(frozen=True)
class PageCaches:
    """The caches a lesson page is put together from (see ``catalogue.lesson_fill``)."""

    version: VersionCache  # pages, articles, quizzes: anything derived from a version
    shell: VersionCache  # page shells, per version item, locale and role
    progress: VersionCache  # progress bars, per locale and figures

    @classmethod
    def of(cls, app: Flask | None = None) -> PageCaches:
        return cls(version_cache(app), _app_cache("waymark_shell_cache", 4096, app),
                   _app_cache("waymark_progress_cache", 1024, app))


def version_cache(app: Flask | None = None) -> VersionCache:
    """This app's cache (one per app, so tests with separate databases never share one)."""
    return _app_cache("waymark_version_cache", 1024, app)


def current_version_id(course_slug: str) -> tuple[int, int] | None:
    """(course id, current version id) for a slug, in one small query."""
    row = db.session.execute(
        sa.select(Course.id, Course.current_version_id).where(Course.slug == course_slug)
    ).first()
    return (row[0], row[1]) if row and row[1] is not None else None


def _build_page(course_id: int, course_slug: str, version_id: int,
                lesson_slug: str) -> LessonPage | None:
    version = db.session.get(CourseVersion, version_id)
    lesson = db.session.scalar(sa.select(Lesson).where(Lesson.version_id == version_id,
                                                       Lesson.slug == lesson_slug))
    if version is None or lesson is None:
        return None
    db.session.expunge(lesson)
    outline = version.flat_outline()
    index = lesson.position - 1
    return LessonPage(
        course_id=course_id,
        course_slug=course_slug,
        version_id=version_id,
        version_number=version.number,
        course_title=version.title,
        language=version.language,
        lesson=lesson,
        total=len(outline),
        module_title=outline[index]["module_title"],
        previous=outline[index - 1] if index > 0 else None,
        following=outline[index + 1] if index + 1 < len(outline) else None,
        lesson_hashes=dict(db.session.execute(sa.select(Lesson.slug, Lesson.reading_hash)
                                              .where(Lesson.version_id == version_id)).all()),
        translations=version.translations,
    )


def lesson_page(course_slug: str, lesson_slug: str) -> LessonPage | None:
    """The lesson page of the course's current version, or None if there is no such lesson."""
    current = current_version_id(course_slug)
    if current is None:
        return None
    course_id, version_id = current
    return version_lesson_page(course_id, course_slug, version_id, lesson_slug)


def version_lesson_page(course_id: int, course_slug: str, version_id: int,
                        lesson_slug: str) -> LessonPage | None:
    """A lesson page of a given version (built once per process), or None if there is none."""
    return version_cache().get_or_build(
        ("lesson", version_id, lesson_slug),
        lambda: _build_page(course_id, course_slug, version_id, lesson_slug))


def reader_jurisdiction(user: Any) -> str | None:
    """The jurisdiction whose passages and items a user gets: their agency's (or None)."""
    agency = getattr(user, "agency", None)
    return agency.jurisdiction if agency is not None else None


def quiz_set(version_id: int) -> QuizSet:
    """The questions and assessments of a version, parsed once per process."""

    def build() -> QuizSet:
        version = db.session.get(CourseVersion, version_id)
        prefix = f"quizzes/{version.course.slug}/"
        files = [(path, text) for path, text in version.files.items() if path.startswith(prefix)]
        problems: list[Problem] = []
        quizzes = load_quizzes(files, version.pass_mark, problems)
        if any(p.severity == "error" for p in problems):  # published content was validated
            raise RuntimeError(f"stored quizzes of version {version_id} do not parse: "
                               + "; ".join(map(str, problems)))
        return quizzes

    return version_cache().get_or_build(("quizzes", version_id), build)
