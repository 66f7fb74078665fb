"""What trainers see: the files' health and previews rendered as officers will see them."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from learning.content import CatalogueLoad, Course, Lesson, load_catalogue
from learning.content.currency import ReviewStatus, stale_lessons
from learning.content.jurisdictions import body_for
from learning.content.render import Rendered, link_rewriter, render_inline, render_markdown
from learning.content.safety import tree_stamp

_CACHE_SIZE = 4  # content roots kept parsed (one in production)
_CACHE: dict[tuple[str, str], tuple[tuple, CatalogueLoad]] = {}
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class LessonPreview:
    """A lesson rendered from the files on disk, not yet published."""

    course: Course
    lesson: Lesson
    rendered: Rendered
    sources_html: list[str]


def catalogue_health(courses_dir: Path, quizzes_dir: Path) -> CatalogueLoad:
    """Load the files exactly as ``flask content check`` does, parsing only when they change.

    Every ``/author/`` request used to re-read and re-parse the whole
    catalogue; now a stat of each file decides whether the parse is reused.
    """
    key = (str(courses_dir), str(quizzes_dir))
    stamp = tree_stamp(courses_dir, quizzes_dir)  # taken before parsing: a later edit is seen
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    catalogue = load_catalogue(courses_dir, quizzes_dir)
    with _CACHE_LOCK:
        _CACHE.pop(key, None)
        _CACHE[key] = (stamp, catalogue)
        while len(_CACHE) > _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
    return catalogue


def preview_lesson(catalogue: CatalogueLoad, course_slug: str, lesson_slug: str,
                   jurisdiction: str | None = None) -> LessonPreview | None:
    """Render one lesson from the files with the same renderer the sync uses, as a reader
    in ``jurisdiction`` sees it (None: the general text)."""
    course = next((c for c in catalogue.courses if c.slug == course_slug), None)
    lesson = course.lesson(lesson_slug) if course else None
    if course is None or lesson is None:
        return None
    rewrite = link_rewriter(course.slug, {a.path: a for a in course.assets})
    body = body_for(lesson.body, jurisdiction, course.language)
    return LessonPreview(course, lesson, render_markdown(body, rewrite),
                         [render_inline(source, rewrite) for source in lesson.sources])


def lessons_due_for_review(catalogue: CatalogueLoad, today: date
                           ) -> list[tuple[Course, ReviewStatus, str]]:
    """Lessons without a review date, past due, or due within 60 days, course by course."""
    return [(course, status, state) for course in catalogue.courses
            for status, state in stale_lessons(course, today)]
