"""Published courses. A version is never changed once written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow


class Course(db.Model):
    """A course's stable identity (its slug) and which version is current."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    current_version_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("course_version.id", use_alter=True, name="fk_course_current_version"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    current_version: so.Mapped[CourseVersion | None] = so.relationship(
        foreign_keys=[current_version_id], post_update=True)


class CourseVersion(db.Model):
    """One published, immutable version of a course, keyed by its content hash.

    Everything a page needs is precomputed here at sync time (rendered HTML,
    the outline), so reading a course never renders Markdown.
    """

    # The same content may be published twice (a rollback is a new version with an old
    # hash), so only the number is unique within a course.
    __table_args__ = (sa.UniqueConstraint("course_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    number: so.Mapped[int]
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    summary: so.Mapped[str] = so.mapped_column(sa.Text)
    language: so.Mapped[str] = so.mapped_column(sa.String(12))
    estimated_minutes: so.Mapped[int]
    pass_mark: so.Mapped[int]
    certificate_validity_months: so.Mapped[int | None]
    completion_lessons: so.Mapped[str] = so.mapped_column(sa.String(8), default="all")
    completion_assessment: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    audience: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    objectives: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    prerequisites: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    outline: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON)
    # Large columns are deferred: a lesson page never needs them, and loading the
    # course's whole source text on every request made pages slower as courses grew.
    overview_html: so.Mapped[str] = so.mapped_column(sa.Text, deferred=True)
    sources_html: so.Mapped[list[str]] = so.mapped_column(sa.JSON, deferred=True)
    files: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, deferred=True)
    assets: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, deferred=True)  # path: sha256
    # Where it came from (files|browser|import|rollback), what it was made from, and by whom.
    origin: so.Mapped[str] = so.mapped_column(sa.String(12), default="files",
                                              server_default="files")
    based_on_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    published_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    # Lesson slug -> "editorial" | "substantive", for lessons changed from the previous version.
    significance: so.Mapped[dict[str, str] | None] = so.mapped_column(sa.JSON)
    # True when publishing asked current certificate holders to recertify.
    recertify: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # Course translations: {"policy": "notice"|"source", "stale": [paths],
    # "courses": {lang: {"title", "summary", "stale"}}} (learning/catalogue/translated.py).
    translations: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)

    course: so.Mapped[Course] = so.relationship(foreign_keys=[course_id])

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]

    @property
    def lesson_count(self) -> int:
        return sum(len(module["lessons"]) for module in self.outline)

    def flat_outline(self) -> list[dict[str, Any]]:
        """Lessons in reading order, each with its module index and title."""
        return [
            dict(lesson, module=index, module_title=module["title"])
            for index, module in enumerate(self.outline)
            for lesson in module["lessons"]
        ]


class Lesson(db.Model):
    """A lesson of one course version, stored already rendered."""

    __tablename__ = "course_lesson"
    __table_args__ = (sa.UniqueConstraint("version_id", "slug"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_version.id"))
    slug: so.Mapped[str] = so.mapped_column(sa.String(100))
    position: so.Mapped[int]  # 1-based, in reading order
    module_index: so.Mapped[int]
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    estimated_minutes: so.Mapped[int]
    content_warning: so.Mapped[str | None] = so.mapped_column(sa.Text)
    objectives: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    sources_html: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    html: so.Mapped[str] = so.mapped_column(sa.Text)
    toc_html: so.Mapped[str] = so.mapped_column(sa.Text)
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    # What progress is compared with: changes only on a substantive change (an editorial
    # change carries the previous one), so a typo fix never asks anyone to re-read.
    reading_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    # The last substantive change's "what changed" note and changed passages, shown to
    # officers who read the lesson before it (carried while the reading hash is).
    change_note: so.Mapped[str | None] = so.mapped_column(sa.Text)
    changed_passages: so.Mapped[list[str] | None] = so.mapped_column(sa.JSON)
    recertification: so.Mapped[bool] = so.mapped_column(default=False)
    check_slug: so.Mapped[str | None] = so.mapped_column(sa.String(100))  # knowledge check
    # {jurisdiction: {"html", "toc_html"}} for the jurisdictions the lesson's variant
    # blocks name; ``html`` above is the general text.
    variants: so.Mapped[dict[str, dict[str, str]] | None] = so.mapped_column(sa.JSON)
    # Rendered translations, loaded with the lesson (no extra query on the page):
    # {lang: {"title", "objectives", "content_warning", "html", "toc_html", "stale",
    #         "policy", "sources_html", "variants"}}.
    translations: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)

    version: so.Mapped[CourseVersion] = so.relationship()


class MediaAsset(db.Model):
    """An image used by lessons, stored once by content hash and cached forever."""

    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    extension: so.Mapped[str] = so.mapped_column(sa.String(8))
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
