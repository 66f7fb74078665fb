"""Completion rules and issuing certificates: once per completion, even under races."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from learning.accounts.models import User
from learning.assessments.models import Attempt
from learning.audit.service import record_audit
from learning.catalogue.models import CourseVersion
from learning.catalogue.translated import course_title_in
from learning.certificates.dates import add_months
from learning.certificates.issuer import current_issuer
from learning.certificates.models import Certificate, Completion
from learning.certificates.pades import pdf_signer, sign_pdf
from learning.certificates.pdf import PrintedCertificate, font_dir, issued_date_label, render_pdf
from learning.certificates.rules import (  # noqa: F401  (callers import them from here)
    RECERTIFY_WITHIN_DAYS,
    RuleCheck,
    check_rule,
    current_rule_version,
    current_version,
    due_for_recertification,
    latest_completion,
    may_complete,
)
from learning.certificates.signing import load_or_create_private_key, sign_payload
from learning.core.urls import external_url
from learning.extensions import db
from learning.languages.service import language_of
from learning.signals import progress_changed
from learning.timeutil import utcnow


def new_certificate_code() -> str:
    """128 random bits, as 32 hex characters (easy to read out over a phone line)."""
    return secrets.token_hex(16)


def record_completion(user_id: int, course_id: int, now: datetime | None = None
                      ) -> Certificate | None:
    """If the rule is now met, record the completion and issue its certificate (once).

    Returns the officer's current certificate for the course, or None if there is none.
    """
    now = now or utcnow()
    last, certificate = latest_completion(user_id, course_id)
    if last is not None and certificate is None:
        # Recorded, but the certificate was never written (or a racing request has not
        # written it yet): write it now.
        return issue_certificate(last)
    if last is not None and not due_for_recertification(certificate, now.date()):
        return certificate  # complete and not due: nothing else to read
    version = current_rule_version(course_id)
    if version is None:
        return None
    rule = check_rule(user_id, version, now.date(), latest=(last, certificate),
                      stop_at_lessons=True)
    if not rule.met:
        return None
    attempt = rule.passing_attempt
    completion = Completion(user_id=user_id, course_id=course_id, version_id=version.id,
                            cycle=rule.cycle, completed_at=now,
                            attempt_id=attempt.id if attempt else None,
                            score=attempt.percent if attempt else None)
    db.session.add(completion)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent request recorded this completion first
        db.session.rollback()
        completion = db.session.scalar(sa.select(Completion).where(
            Completion.user_id == user_id, Completion.course_id == course_id,
            Completion.cycle == rule.cycle))
    return issue_certificate(completion)


def _language_taken(completion: Completion, holder: User) -> str:
    """The language the course was taken in: the passing attempt's, else the holder's."""
    attempt = db.session.get(Attempt, completion.attempt_id) if completion.attempt_id else None
    return (attempt.language if attempt is not None else None) or language_of(holder)


def issue_certificate(completion: Completion) -> Certificate:
    """The certificate of a completion, created if it does not exist yet."""
    existing = db.session.scalar(sa.select(Certificate).where(
        Certificate.completion_id == completion.id))
    if existing is not None:
        return existing
    version = db.session.get(CourseVersion, completion.version_id)
    holder = db.session.get(User, completion.user_id)
    issued_on = completion.completed_at.date()
    months = version.certificate_validity_months
    issuer = current_issuer()
    certificate = Certificate(
        issuer_name=issuer.issuer_name or None, signatory_name=issuer.signatory_name or None,
        signatory_title=issuer.signatory_title or None, code=new_certificate_code(),
        completion_id=completion.id, user_id=holder.id,
        course_id=completion.course_id, version_id=version.id,
        holder_name=holder.display_name, course_slug=version.course.slug,
        course_title=course_title_in(version, _language_taken(completion, holder)),
        version_number=version.number,
        content_hash=version.content_hash, score=completion.score, issued_on=issued_on,
        expires_on=add_months(issued_on, months) if months else None)
    db.session.add(certificate)
    record_audit(holder, "certificate.issue", certificate.code,
                 {"course": certificate.course_slug, "version": certificate.version_number,
                  "completion_id": completion.id}, agency_id=holder.agency_id)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(sa.select(Certificate).where(
            Certificate.completion_id == completion.id))
    return certificate


def certificate_payload(certificate: Certificate) -> str:
    """The signed, database-free summary printed in the QR code."""
    key = load_or_create_private_key(current_app.instance_path)
    fields = {
        "c": certificate.code, "n": certificate.holder_name, "k": certificate.course_slug,
        "t": certificate.course_title, "v": certificate.version_number,
        "h": certificate.content_hash[:12], "i": certificate.issued_on.isoformat(),
        "e": certificate.expires_on.isoformat() if certificate.expires_on else None,
    }
    if certificate.score is not None:
        fields["s"] = round(certificate.score)
    return sign_payload(fields, key)


def printed_certificate(certificate: Certificate) -> PrintedCertificate:
    """The text of a certificate, with its labels in the holder's language."""
    holder = db.session.get(User, certificate.user_id)
    with force_locale(language_of(holder) if holder is not None else "en"):
        return _printed_certificate(certificate)


def _printed_certificate(certificate: Certificate) -> PrintedCertificate:
    payload = certificate_payload(certificate)
    verify_url = external_url("certificates.verify", code=certificate.code, p=payload)
    if certificate.expires_on:
        expiry = _("Valid until %(day)s", day=issued_date_label(certificate.expires_on))
    else:
        expiry = _("Does not expire")
    return PrintedCertificate(
        code=certificate.code, holder_name=certificate.holder_name,
        course_title=certificate.course_title,
        version_label=_("Version %(n)d (%(hash)s)", n=certificate.version_number,
                        hash=certificate.content_hash[:12]),
        score_label=(_("Score %(score)d%%", score=round(certificate.score))
                     if certificate.score is not None else None),
        issued_label=_("Issued %(day)s", day=issued_date_label(certificate.issued_on)),
        expiry_label=expiry, verify_url=verify_url, payload=payload,
        issuer_name=certificate.issuer_name or "", signatory_name=certificate.signatory_name or "",
        signatory_title=certificate.signatory_title or "",
        labels={"title": _("Certificate of completion"),
                "certifies": _("This certifies that"),
                "completed": _("has completed the course"),
                "code": _("Certificate code"),
                "verify": _("Check it at")})


def certificate_pdf(certificate: Certificate, paper: str = "a4") -> bytes:
    """The certificate's PDF (A4 or US Letter), PAdES-signed by the instance."""
    rendered = render_pdf(printed_certificate(certificate), paper,
                          font_dir(current_app.config.get("FONT_DIR")),
                          Path(current_app.instance_path) / "font-cache")
    return sign_pdf(rendered, pdf_signer(current_app.instance_path))


def find_certificate(code: str) -> Certificate | None:
    """A certificate by code; malformed codes cost the same lookup as unknown ones."""
    candidate = code if len(code) == 32 and all(c in "0123456789abcdef" for c in code) \
        else "0" * 32
    found = db.session.scalar(sa.select(Certificate).where(Certificate.code == candidate))
    return found if found is not None and found.code == code else None


def revoke_certificate(certificate: Certificate, reason: str, admin_id: int | None,
                       now: datetime | None = None) -> None:
    """Mark a certificate revoked (the record itself stays; the reason is never public)."""
    if not reason.strip():
        raise ValueError("A reason is required to revoke a certificate.")
    if certificate.revoked_at is None:
        certificate.revoked_at = now or utcnow()
        certificate.revoked_reason = reason.strip()
        certificate.revoked_by = admin_id
        db.session.commit()


def certificates_of(user_id: int) -> list[Certificate]:
    """An officer's certificates, newest first."""
    return list(db.session.scalars(sa.select(Certificate).where(Certificate.user_id == user_id)
                                   .order_by(Certificate.issued_on.desc(),
                                             Certificate.id.desc())))


def certificate_for_attempt(attempt_id: int) -> Certificate | None:
    """The unrevoked certificate whose completion this passed attempt brought about, if any."""
    return db.session.scalar(
        sa.select(Certificate).join(Completion, Completion.id == Certificate.completion_id)
        .where(Completion.attempt_id == attempt_id, Certificate.revoked_at.is_(None)))


def newest_unrevoked(user_id: int) -> dict[int, Certificate]:
    """Course id -> the user's newest certificate that is not revoked (expired included)."""
    newest: dict[int, Certificate] = {}
    for certificate in db.session.scalars(
            sa.select(Certificate).where(Certificate.user_id == user_id,
                                         Certificate.revoked_at.is_(None))
            .order_by(Certificate.issued_on, Certificate.id)):
        newest[certificate.course_id] = certificate  # newest wins
    return newest


def valid_certificates(user_id: int, today: date) -> dict[int, Certificate]:
    """Course id -> the user's current certificate, for courses where it is still valid."""
    return {course_id: certificate for course_id, certificate in newest_unrevoked(user_id).items()
            if certificate.status(today) == "valid"}


def _on_progress_changed(_sender, user_id: int, course_id: int, **_extra) -> None:
    now = utcnow()
    if may_complete(user_id, course_id, now.date()):
        record_completion(user_id, course_id, now)


def connect_signals() -> None:
    """Check the completion rule whenever an officer's progress changes."""
    progress_changed.connect(_on_progress_changed)
