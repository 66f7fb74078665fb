"""Reading and recording lesson progress.

A completed lesson counts while its substance is unchanged: each progress row
keeps the lesson's reading hash as it was read. An editorial change (a typo fix)
carries the reading hash over, so nothing moves; a substantive change gives the
lesson a new one, and the officer is asked to read it again (told what changed).
A lesson to re-read still counts as read: it never turns a finished course back
into one "in progress".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from learning.accounts.models import User
from learning.accounts.signed_in import USER_AND_AGENCY, signed_in_user, user_from_row
from learning.catalogue.models import Course, CourseVersion, Lesson
from learning.content.schema import is_slug
from learning.extensions import db
from learning.ops.dbconnections import DriverStatement
from learning.progress.models import LessonProgress
from learning.signals import progress_changed
from learning.timeutil import utcnow


@dataclass(frozen=True)
class CourseProgress:
    """How far an officer is through the current version of one course."""

    completed: frozenset[str]  # read on the current substance
    total: int
    changed: frozenset[str] = frozenset()  # read before a substantive change: to re-read

    @property
    def done(self) -> int:
        """Lessons read (a lesson to re-read was read, so it counts)."""
        return len(self.completed) + len(self.changed)

    @property
    def to_reread(self) -> int:
        return len(self.changed)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def status(self) -> str:
        if self.total and self.done >= self.total and not self.changed:
            return "completed"
        return "in_progress" if self.done else "not_started"


_course = Course.__table__
MAX_SLUG = Course.__table__.c.slug.type.length
_progress = LessonProgress.__table__
# Built once: a prepared Core statement skips the ORM and reuses its compiled form.
_COURSE_AND_COMPLETED = (
    sa.select(_course.c.id, _course.c.current_version_id, _progress.c.lesson_slug,
              _progress.c.lesson_hash)
    .select_from(_course.outerjoin(_progress, sa.and_(
        _progress.c.course_id == _course.c.id, _progress.c.user_id == sa.bindparam("user_id"))))
    .where(_course.c.slug == sa.bindparam("slug")))


@dataclass(frozen=True)
class ReaderState:
    """A course's current version and what one reader completed in it (one query)."""

    course_id: int
    version_id: int
    completed: dict[str, str]  # lesson slug -> hash of the text that was read


def reader_state(user_id: int, course_slug: str) -> ReaderState | None:
    """The course's current version id and the reader's completed lessons, in one query.

    None when there is no such course or it has no published version.
    """
    rows = db.session.execute(_COURSE_AND_COMPLETED,
                              {"user_id": user_id, "slug": course_slug}).all()
    if not rows or rows[0][1] is None:
        return None
    return ReaderState(rows[0][0], rows[0][1],
                       {slug: read_hash for _, _, slug, read_hash in rows if slug is not None})


class _CommaJoined(FunctionElement):
    """The strings of a group joined with commas.

    ``sa.func.aggregate_strings`` sends its separator as a "post-compile" parameter,
    and SQLAlchemy then rewrites the statement's text on every execution; a lesson
    page paid that on each request. Here the comma is part of the cached SQL (and so
    is the space inside each entry: no parameter to bind either)."""

    type = sa.String()
    inherit_cache = True


@compiles(_CommaJoined, "sqlite")
def _group_concat(element, compiler, **kw) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_CommaJoined, "postgresql")
def _string_agg(element, compiler, **kw) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def lessons_read_column(user_id) -> sa.ScalarSelect:
    """The lessons ``user_id`` completed in the enclosing statement's ``course``, as one
    "slug hash,slug hash" string (slugs are [a-z0-9-], hashes hex: neither holds a space
    or a comma), so a statement that reads a course row reads them in the same row."""
    return (sa.select(_CommaJoined(
        _progress.c.lesson_slug + sa.literal_column("' '", sa.String) + _progress.c.lesson_hash))
        .where(_progress.c.course_id == _course.c.id, _progress.c.user_id == user_id)
        .scalar_subquery())


def lessons_read(column: str | None) -> dict[str, str]:
    """Lesson slug -> reading hash, from a ``lessons_read_column`` value."""
    return dict(entry.split(" ", 1) for entry in column.split(",")) if column else {}


# The signed-in user and their state in one course, in one statement and one row: a
# lesson page needs nothing else from the database.
_USER_AND_READER_STATE = (
    USER_AND_AGENCY.add_columns(_course.c.id, _course.c.current_version_id,
                                lessons_read_column(User.__table__.c.id))
    .outerjoin(_course, _course.c.slug == sa.bindparam("slug")))


def signed_in_reader(user_id: int, generation: int, course_slug: str,
                     row: tuple | None = None) -> tuple[User | None, ReaderState | None]:
    """``signed_in_user`` and ``reader_state`` for ``course_slug``, in one statement
    (none when ``row``, ``reader_row``'s answer for this user and slug, is given).

    It may run for any address the lesson route matched, an error page's included (a
    NUL byte refused with 400): a slug no course could have is not sent to the database.
    """
    if not is_slug(course_slug, MAX_SLUG):
        return signed_in_user(user_id, generation), None
    if row is None:
        row = reader_row(db.engine, user_id, course_slug)
    user = user_from_row(row, generation)
    if user is None:
        return None, None
    course_id, version_id, read = row[-3:]
    if version_id is None:
        return user, None
    return user, ReaderState(course_id, version_id, lessons_read(read))


def reader_row(engine: sa.Engine, user_id: int, course_slug: str) -> tuple | None:
    """The row ``signed_in_reader`` reads, read without a Flask app or SQLAlchemy's
    execution path (the lesson fast path reads it too); ``course_slug`` must already be a
    well-formed slug. Columns: ``USER_AND_AGENCY``'s, then course id, current version
    id and the lessons read (``lessons_read``)."""
    return DriverStatement.of(_USER_AND_READER_STATE, engine).first(
        {"id": user_id, "slug": course_slug})


def completed_lessons(user_id: int, course_id: int) -> dict[str, str]:
    """Lesson slug -> reading hash of the text that was read, for one course (one query)."""
    return dict(db.session.execute(
        sa.select(LessonProgress.lesson_slug, LessonProgress.lesson_hash)
        .where(LessonProgress.user_id == user_id, LessonProgress.course_id == course_id)).all())


def completed_by_course(user_id: int) -> dict[int, dict[str, str]]:
    """Every completed lesson of a user, grouped by course id (one query)."""
    result: dict[int, dict[str, str]] = {}
    rows = db.session.execute(sa.select(LessonProgress.course_id, LessonProgress.lesson_slug,
                                        LessonProgress.lesson_hash)
                              .where(LessonProgress.user_id == user_id))
    for course_id, slug, lesson_hash in rows:
        result.setdefault(course_id, {})[slug] = lesson_hash
    return result


def progress_against(lesson_hashes: Mapping[str, str | None],
                     completed: Mapping[str, str]) -> CourseProgress:
    """Progress against a version's lessons (slug -> current reading hash, None if unknown)."""
    current, changed = set(), set()
    for slug, read_hash in completed.items():
        if slug not in lesson_hashes:
            continue
        if lesson_hashes[slug] in (None, read_hash):
            current.add(slug)
        else:
            changed.add(slug)
    return CourseProgress(frozenset(current), len(lesson_hashes), frozenset(changed))


def course_progress(version: CourseVersion, completed: Mapping[str, str]) -> CourseProgress:
    """Progress against the lessons of this version only."""
    hashes = {lesson["slug"]: lesson.get("hash") for lesson in version.flat_outline()}
    return progress_against(hashes, completed)


def next_lesson_slug(version: CourseVersion, progress: CourseProgress) -> str | None:
    """The first lesson in reading order never read, else the first one to re-read."""
    outline = version.flat_outline()
    for lesson in outline:
        if lesson["slug"] not in progress.completed and lesson["slug"] not in progress.changed:
            return lesson["slug"]
    for lesson in outline:
        if lesson["slug"] in progress.changed:
            return lesson["slug"]
    return None


def mark_lesson_complete(user_id: int, course_id: int, lesson: Lesson) -> bool:
    """Record that a user completed a lesson; True if this call recorded something new.

    Repeated or concurrent calls leave exactly one row: the unique constraint
    decides. Completing a lesson changed substantively since it was read updates
    the row to the new reading hash; completing a lesson required for recertification
    again records when it was read again.
    """
    row = db.session.scalar(sa.select(LessonProgress).where(
        LessonProgress.user_id == user_id, LessonProgress.course_id == course_id,
        LessonProgress.lesson_slug == lesson.slug))
    if row is not None and row.lesson_hash == lesson.reading_hash and not lesson.recertification:
        return False
    if row is None:
        db.session.add(LessonProgress(user_id=user_id, course_id=course_id,
                                      lesson_slug=lesson.slug, version_id=lesson.version_id,
                                      lesson_hash=lesson.reading_hash))
    else:
        row.lesson_hash, row.version_id, row.completed_at = (
            lesson.reading_hash, lesson.version_id, utcnow())
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    progress_changed.send("progress", user_id=user_id, course_id=course_id)
    return True
