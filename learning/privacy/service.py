"""Everything Waymark holds about one person, as a dict and as a zip with their PDFs.

Each section is read with the person's own id (or, for the audit log, their id and
email), so an export can only ever hold that person's data.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from learning.accounts.models import Agency, PasswordReset, Unit, User
from learning.agency.models import AuditEntry
from learning.agency.reminders_models import Notification
from learning.agency.staff_models import Invitation
from learning.assessments.models import Attempt
from learning.catalogue.models import Course
from learning.certificates.models import Certificate, Completion
from learning.certificates.service import certificate_pdf
from learning.extensions import db
from learning.progress.models import LessonProgress
from learning.timeutil import utcnow

SECTIONS = ("profile", "lesson_progress", "completions", "attempts", "certificates",
            "messages", "invitations", "password_resets", "audit")


def _iso(value: Any) -> Any:
    """Dates and times as ISO 8601 text, everything else unchanged."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _rows(query: sa.Select) -> list[dict[str, Any]]:
    """A query's rows as dicts of JSON-ready values."""
    return [{key: _iso(value) for key, value in row._mapping.items()}
            for row in db.session.execute(query)]


def _profile(user: User) -> dict[str, Any]:
    agency = db.session.get(Agency, user.agency_id) if user.agency_id else None
    unit = db.session.get(Unit, user.unit_id) if user.unit_id else None
    return {"id": user.id, "email": user.email, "display_name": user.display_name,
            "role": user.role, "active": user.active, "language": user.language,
            "agency": agency.name if agency else None, "unit": unit.name if unit else None,
            "created_at": _iso(user.created_at), "last_login_at": _iso(user.last_login_at),
            "deactivated_at": _iso(user.deactivated_at),
            "has_password": bool(user.password_hash)}


def _audit(user: User) -> list[dict[str, Any]]:
    """Audit rows by or about the person; other people's addresses are left out."""
    entries = db.session.scalars(sa.select(AuditEntry).where(sa.or_(
        AuditEntry.actor_id == user.id, AuditEntry.target == user.email))
        .order_by(AuditEntry.id))
    result = []
    for entry in entries:
        details = dict(entry.details or {})
        if entry.actor_id != user.id:
            details.pop("address", None)
        result.append({"at": _iso(entry.at), "action": entry.action, "target": entry.target,
                       "by": "you" if entry.actor_id == user.id else
                       ("someone else" if entry.actor_id else "the system"),
                       "details": details})
    return result


def export_data(user: User) -> dict[str, Any]:
    """Everything held about ``user``, section by section (see ``SECTIONS``)."""
    uid = user.id
    return {
        "exported_at": _iso(utcnow()),
        "profile": _profile(user),
        "lesson_progress": _rows(
            sa.select(Course.slug.label("course"), LessonProgress.lesson_slug.label("lesson"),
                      LessonProgress.version_id, LessonProgress.completed_at)
            .join(Course, Course.id == LessonProgress.course_id)
            .where(LessonProgress.user_id == uid).order_by(LessonProgress.id)),
        "completions": _rows(
            sa.select(Course.slug.label("course"), Completion.version_id, Completion.cycle,
                      Completion.completed_at, Completion.score)
            .join(Course, Course.id == Completion.course_id)
            .where(Completion.user_id == uid).order_by(Completion.id)),
        "attempts": _rows(
            sa.select(Attempt.id, Course.slug.label("course"), Attempt.assessment_slug,
                      Attempt.final, Attempt.status, Attempt.version_id, Attempt.started_at,
                      Attempt.deadline, Attempt.submitted_at, Attempt.answers, Attempt.score,
                      Attempt.max_score, Attempt.percent, Attempt.passed,
                      Attempt.counts_towards_limit)
            .join(Course, Course.id == Attempt.course_id)
            .where(Attempt.user_id == uid).order_by(Attempt.id)),
        "certificates": _rows(
            sa.select(Certificate.code, Certificate.holder_name, Certificate.course_slug,
                      Certificate.course_title, Certificate.version_number, Certificate.score,
                      Certificate.issued_on, Certificate.expires_on, Certificate.revoked_at)
            .where(Certificate.user_id == uid).order_by(Certificate.id)),
        # Message bodies are left out: a reset message holds a live link.
        "messages": _rows(
            sa.select(Notification.kind, Notification.subject, Notification.created_at,
                      Notification.sent_at)
            .where(Notification.user_id == uid).order_by(Notification.id)),
        "invitations": _rows(
            sa.select(Invitation.created_at, Invitation.expires_at, Invitation.used_at,
                      Invitation.revoked_at)
            .where(Invitation.user_id == uid).order_by(Invitation.id)),
        "password_resets": _rows(
            sa.select(PasswordReset.created_at, PasswordReset.expires_at,
                      PasswordReset.used_at, PasswordReset.revoked_at)
            .where(PasswordReset.user_id == uid).order_by(PasswordReset.id)),
        "audit": _audit(user),
    }


def export_zip(user: User) -> bytes:
    """``data.json`` and ``certificates/<code>.pdf`` for each of the person's certificates."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(export_data(user), indent=2,
                                                 ensure_ascii=False, sort_keys=True))
        for certificate in db.session.scalars(sa.select(Certificate).where(
                Certificate.user_id == user.id).order_by(Certificate.id)):
            archive.writestr(f"certificates/{certificate.code}.pdf",
                             certificate_pdf(certificate))
    return buffer.getvalue()
