"""What trainers see: the files' health and previews rendered as officers will see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from learning.content import CatalogueLoad, Course, Lesson, load_catalogue
from learning.content.currency import ReviewStatus, stale_lessons
from learning.content.render import Rendered, link_rewriter, render_inline, render_markdown


@dataclass(frozen=True)
class LessonPreview:
    """A lesson rendered from the files on disk, not yet published."""

    course: Course
    lesson: Lesson
    rendered: Rendered
    sources_html: list[str]


def catalogue_health(courses_dir: Path, quizzes_dir: Path) -> CatalogueLoad:
    """Load the files exactly as ``flask content check`` does."""
    return load_catalogue(courses_dir, quizzes_dir)


def preview_lesson(catalogue: CatalogueLoad, course_slug: str,
                   lesson_slug: str) -> LessonPreview | None:
    """Render one lesson from the files with the same renderer the sync uses."""
    course = next((c for c in catalogue.courses if c.slug == course_slug), None)
    lesson = course.lesson(lesson_slug) if course else None
    if course is None or lesson is None:
        return None
    rewrite = link_rewriter(course.slug, {a.path: a for a in course.assets})
    return LessonPreview(course, lesson, render_markdown(lesson.body, rewrite),
                         [render_inline(source, rewrite) for source in lesson.sources])


def lessons_due_for_review(catalogue: CatalogueLoad, today: date
                           ) -> list[tuple[Course, ReviewStatus, str]]:
    """Lessons without a review date, past due, or due within 60 days, course by course."""
    return [(course, status, state) for course in catalogue.courses
            for status, state in stale_lessons(course, today)]
