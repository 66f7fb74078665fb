"""Drafts written in the browser, their review comments, and who may edit which course."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow

DRAFT_STATES = ("draft", "in_review", "approved", "published", "withdrawn")
OPEN_STATES = ("draft", "in_review", "approved")
MEMBER_ROLES = ("owner", "editor")
DRAFT_ORIGINS = ("browser", "rollback", "import")  # written here, an old version, a zip


class CourseDraft(db.Model):
    """A set of course and quiz file texts being edited, based on one published version.

    ``revision`` only grows: a save names the revision it was made on, and a save made
    on an older one is refused unless the file it changes is untouched since.
    """

    __tablename__ = "course_draft"
    __table_args__ = (
        sa.CheckConstraint("state IN ('draft', 'in_review', 'approved', 'published', "
                           "'withdrawn')", name="state"),
        # At most one open draft per course: two trainers work on the same one.
        sa.Index("uq_course_draft_one_open", "course_slug", unique=True,
                 sqlite_where=sa.text(f"state IN {OPEN_STATES}"),
                 postgresql_where=sa.text(f"state IN {OPEN_STATES}")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_slug: so.Mapped[str] = so.mapped_column(sa.String(100))
    base_version_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("course_version.id"))
    base_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    files: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)  # path from the root: text
    assets: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON)  # path in course: sha256
    revision: so.Mapped[int] = so.mapped_column(default=1)
    state: so.Mapped[str] = so.mapped_column(sa.String(20), default="draft")
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    contributors: so.Mapped[list[int]] = so.mapped_column(sa.JSON)  # everyone who saved
    reviewer_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    published_version_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("course_version.id"))
    # A rollback or a zip import waits for review as a draft, and publishes with its origin.
    origin: so.Mapped[str] = so.mapped_column(sa.String(20), default="browser",
                                              server_default="browser")
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class DraftComment(db.Model):
    """A reviewer's or author's remark on one file (a lesson, a bank) of a draft."""

    __tablename__ = "draft_comment"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    draft_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_draft.id"), index=True)
    path: so.Mapped[str] = so.mapped_column(sa.String(300))
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class CourseMember(db.Model):
    """A trainer who owns or may edit one course (by slug, so new courses count too)."""

    __tablename__ = "course_member"
    __table_args__ = (
        sa.UniqueConstraint("course_slug", "user_id"),
        sa.CheckConstraint("role IN ('owner', 'editor')", name="role"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_slug: so.Mapped[str] = so.mapped_column(sa.String(100), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    role: so.Mapped[str] = so.mapped_column(sa.String(10))
    granted_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    granted_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
