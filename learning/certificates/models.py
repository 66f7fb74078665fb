"""Completions and the certificates issued for them: immutable records."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.extensions import db
from learning.timeutil import utcnow

if TYPE_CHECKING:
    from learning.accounts.models import User


class Completion(db.Model):
    """The moment an officer met a course's completion rule, on a given version.

    ``cycle`` is 0 for the first completion and grows with each recertification;
    the unique constraint makes a race between two requests produce one row.
    """

    __table_args__ = (sa.UniqueConstraint("user_id", "course_id", "cycle"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_version.id"))
    cycle: so.Mapped[int] = so.mapped_column(default=0)
    completed_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    attempt_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("attempt.id"))
    score: so.Mapped[float | None]


class Certificate(db.Model):
    """A certificate as printed: the holder's name, course and version are copied in."""

    __table_args__ = (sa.Index("ix_certificate_user_course", "user_id", "course_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    completion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("completion.id"),
                                                     unique=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course_version.id"))
    holder_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    course_slug: so.Mapped[str] = so.mapped_column(sa.String(100))
    course_title: so.Mapped[str] = so.mapped_column(sa.String(300))
    version_number: so.Mapped[int]
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    score: so.Mapped[float | None]
    issued_on: so.Mapped[date]
    expires_on: so.Mapped[date | None]
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    revoked_at: so.Mapped[datetime | None]
    revoked_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    revoked_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    # Who issued it, copied from the settings at issue: a later change never reprints it.
    issuer_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    signatory_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    signatory_title: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    # Set when a course change asked holders to recertify: the certificate counts as
    # expiring until then and expired after (the printed expiry date is unchanged).
    recertify_by: so.Mapped[date | None]

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])

    @property
    def effective_expiry(self) -> date | None:
        """The earlier of the printed expiry and a recertification deadline, if any."""
        dates = [d for d in (self.expires_on, self.recertify_by) if d is not None]
        return min(dates) if dates else None

    def status(self, today: date) -> str:
        """valid, expired or revoked (on ``today``)."""
        if self.revoked_at is not None:
            return "revoked"
        expiry = self.effective_expiry
        if expiry is not None and today >= expiry:
            return "expired"
        return "valid"


class CertificateIssuer(db.Model):
    """The one row of issuer settings: the agency or instance name, and an optional signatory.

    Admins set it on /admin/settings/; each new certificate copies it.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    issuer_name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    signatory_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    signatory_title: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
