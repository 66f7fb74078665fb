"""Whom publishing a change would affect: the plan an author sees before publishing.

Counts come from grouped queries, so the cost does not grow with the number of officers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from learning.assessments.models import OPEN, Attempt
from learning.catalogue.changes import LessonChange, LessonState, compare_lessons
from learning.catalogue.models import Course, CourseVersion, Lesson
from learning.certificates.models import Certificate
from learning.content import Course as CourseFiles
from learning.extensions import db
from learning.progress.models import LessonProgress
from learning.timeutil import utcnow


@dataclass(frozen=True)
class PublishPlan:
    """What publishing ``files`` would change, and whom it would affect."""

    course_slug: str
    current: CourseVersion | None  # the version the change is compared with
    content_hash: str  # of the files
    changes: list[LessonChange]
    rereaders: dict[str, int]  # changed lesson -> officers asked to re-read if substantive
    open_attempts: dict[str, int]  # assessment -> attempts open on the current version
    certificates: int  # valid certificates of the course (touched only by recertification)
    quizzes_changed: list[str] = field(default_factory=list)  # question/assessment files
    course_changed: bool = False  # course.md or images

    @property
    def unchanged(self) -> bool:
        return self.current is not None and self.current.content_hash == self.content_hash

    @property
    def changed_slugs(self) -> list[str]:
        """Lessons whose text changed: the ones that need an editorial/substantive choice."""
        return [change.slug for change in self.changes if change.kind == "changed"]


def course_by_slug(slug: str) -> Course | None:
    """A course by its slug, or None."""
    return db.session.scalar(sa.select(Course).where(Course.slug == slug))


def current_of(slug: str) -> CourseVersion | None:
    """The current version of a course, or None."""
    course = course_by_slug(slug)
    return db.session.get(CourseVersion, course.current_version_id) \
        if course is not None and course.current_version_id else None


def old_states(version: CourseVersion) -> tuple[list[LessonState], dict[str, Lesson]]:
    """A stored version's lessons for comparison, and its Lesson rows by slug."""
    lessons = list(db.session.scalars(sa.select(Lesson).where(Lesson.version_id == version.id)
                                      .order_by(Lesson.position)))
    modules = [module["title"] for module in version.outline]
    slug = version.course.slug
    states = [LessonState(lesson.slug, lesson.title, lesson.content_hash,
                          modules[lesson.module_index],
                          version.files.get(f"courses/{slug}/{lesson.slug}.md", ""))
              for lesson in lessons]
    return states, {lesson.slug: lesson for lesson in lessons}


def _new_states(files: CourseFiles) -> list[LessonState]:
    texts = dict(files.files)
    return [LessonState(lesson.slug, lesson.title, lesson.content_hash,
                        files.modules[files.module_of(lesson.slug)].title,
                        texts.get(lesson.path, ""))
            for lesson in files.lessons]


def _other_files(files: Mapping[str, str], lesson_paths: set[str]) -> dict[str, str]:
    return {path: text for path, text in files.items() if path not in lesson_paths}


def plan_publish(files: CourseFiles, today: date | None = None) -> PublishPlan:
    """Compare ``files`` with the course's current version and count whom it affects.

    Four grouped queries whatever the number of officers.
    """
    today = today or utcnow().date()
    current = current_of(files.slug)
    new_states = _new_states(files)
    paths = {lesson.slug: lesson.path for lesson in files.lessons}
    if current is None:
        changes = compare_lessons([], new_states, paths)
        return PublishPlan(files.slug, None, files.content_hash, changes, {}, {}, 0,
                           sorted(p for p, _ in files.files if p.startswith("quizzes/")), True)
    before, old_lessons = old_states(current)
    changes = compare_lessons(before, new_states, paths)
    changed = [c.slug for c in changes if c.kind == "changed"]
    rereaders = {slug: 0 for slug in changed}
    if changed:
        rows = db.session.execute(
            sa.select(LessonProgress.lesson_slug, LessonProgress.lesson_hash,
                      sa.func.count(LessonProgress.id))
            .where(LessonProgress.course_id == current.course_id,
                   LessonProgress.lesson_slug.in_(changed))
            .group_by(LessonProgress.lesson_slug, LessonProgress.lesson_hash))
        for slug, read_hash, count in rows:
            if read_hash == old_lessons[slug].reading_hash:  # the others re-read already
                rereaders[slug] += count
    open_attempts = dict(db.session.execute(
        sa.select(Attempt.assessment_slug, sa.func.count(Attempt.id))
        .where(Attempt.course_id == current.course_id, Attempt.version_id == current.id,
               Attempt.status == OPEN)
        .group_by(Attempt.assessment_slug)).all())
    certificates = db.session.scalar(
        sa.select(sa.func.count(Certificate.id))
        .where(Certificate.course_id == current.course_id, Certificate.revoked_at.is_(None),
               sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on > today),
               sa.or_(Certificate.recertify_by.is_(None), Certificate.recertify_by > today)))
    lesson_paths = {f"courses/{files.slug}/{s.slug}.md" for s in before} | \
        {lesson.path for lesson in files.lessons}
    old_other = _other_files(current.files, lesson_paths)
    new_other = _other_files(dict(files.files), lesson_paths)
    quizzes_changed = sorted(path for path in set(old_other) | set(new_other)
                             if path.startswith("quizzes/")
                             and old_other.get(path) != new_other.get(path))
    course_changed = any(old_other.get(path) != new_other.get(path)
                         for path in set(old_other) | set(new_other)
                         if not path.startswith("quizzes/")) \
        or current.assets != {asset.path: asset.sha256 for asset in files.assets}
    return PublishPlan(files.slug, current, files.content_hash, changes, rereaders,
                       open_attempts, certificates or 0, quizzes_changed, course_changed)


