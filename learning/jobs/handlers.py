"""The kinds of job, in a registry: each handler works in chunks and is idempotent.

Re-running a handler after a crash at any point duplicates nothing: certificates rely
on the unique completion and certificate rows (``record_completion`` is safe to repeat),
PDFs are parts keyed by certificate code, reminders on the outbox's unique keys and
claims, and an export simply rebuilds its file.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from learning.access import Viewer, scope_people
from learning.accounts.models import User
from learning.agency import compliance, exports
from learning.agency.reminders import (
    queue_digests,
    queue_scope_digests,
    send_keyed,
    send_pending,
)
from learning.agency.reminders_models import Notification
from learning.assessments.models import Attempt
from learning.catalogue.models import Course
from learning.certificates.models import Certificate
from learning.certificates.service import certificate_pdf, record_completion
from learning.core.spreadsheets import spreadsheet_safe
from learning.extensions import db
from learning.jobs import steps
from learning.jobs.models import Job
from learning.progress.models import LessonProgress
from learning.timeutil import today_in, utcnow

PDF_PREFIX = "pdf/"
ZIP_MIMETYPE = "application/zip"


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its label on the page, the function that runs it, and the role that
    may start it and see it (admins hold every role)."""

    label: object  # a lazy string
    run: Callable[[Job], None]
    role: str


def _owner(job: Job) -> User:
    owner = db.session.get(User, job.owner_id) if job.owner_id else None
    if owner is None or not owner.active:
        raise PermissionError("The account that started this job no longer exists or is "
                              "deactivated.")
    return owner


def eligible_officers(viewer: User | Viewer, course_id: int) -> sa.Select:
    """Officers in the viewer's scope with any progress or attempt in the course (ids)."""
    started = sa.union(
        sa.select(LessonProgress.user_id).where(LessonProgress.course_id == course_id),
        sa.select(Attempt.user_id).where(Attempt.course_id == course_id)).subquery()
    return scope_people(sa.select(User.id).where(User.id.in_(sa.select(started.c.user_id)),
                                                 User.active.is_(True)), viewer)


def issue_certificates(job: Job) -> None:
    """Issue every due certificate for a course (scope of the owner), then zip their PDFs."""
    owner = _owner(job)
    course_id, with_pdfs = int(job.params["course_id"]), bool(job.params.get("pdfs", True))
    paper = job.params.get("paper", "a4")
    eligible = eligible_officers(owner, course_id)
    officers = list(db.session.scalars(eligible.order_by(User.id)))
    pending = [user_id for user_id in officers if user_id > job.cursor]
    done, this_run, size = len(officers) - len(pending), 0, steps.chunk_size()
    steps.advance(job, done, total=len(officers))
    for start in range(0, len(pending), size):
        chunk = pending[start:start + size]
        for user_id in chunk:
            certificate = record_completion(user_id, course_id)
            name = f"{PDF_PREFIX}{certificate.code}.pdf" if certificate else ""
            if with_pdfs and certificate and not steps.has_file(job, name):
                steps.put_file(job, name, "application/pdf", certificate_pdf(certificate, paper))
                db.session.commit()
            this_run += 1
            steps.item_done(this_run)
        done += len(chunk)
        steps.advance(job, done, cursor=chunk[-1])
    issued = db.session.scalar(sa.select(sa.func.count(sa.distinct(Certificate.user_id))).where(
        Certificate.course_id == course_id, Certificate.user_id.in_(eligible),
        Certificate.revoked_at.is_(None)))
    with force_locale(owner.language or "en"):
        job.summary = _("%(issued)d certificates held by the %(officers)d officers checked.",
                        issued=issued, officers=len(officers))
    if with_pdfs:
        slug = db.session.scalar(sa.select(Course.slug).where(Course.id == course_id))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed
            for part in steps.parts(job, PDF_PREFIX):
                archive.writestr(part.name[len(PDF_PREFIX):], part.data)
        job.result_name = f"certificates-{slug}.zip"
        steps.put_file(job, job.result_name, ZIP_MIMETYPE, buffer.getvalue())
        steps.drop_parts(job, PDF_PREFIX)
    db.session.commit()


def export_compliance(job: Job) -> None:
    """The compliance rows as CSV or XLSX, built again from scratch on every run."""
    owner = _owner(job)
    filters = compliance.Filters(**job.params.get("filters", {}))
    kind = job.params.get("format", "csv")
    window = current_app.config["EXPIRING_WITHIN_DAYS"]
    with force_locale(owner.language or "en"):
        lines = list(exports.export_rows(filters, Viewer.of(owner),
                                         today_in(owner.time_zone_name), window))
    steps.advance(job, 0, total=len(lines) - 1)
    if kind == "xlsx":
        buffer = io.BytesIO()
        exports.write_xlsx(lines, buffer)
        data, mimetype = buffer.getvalue(), exports.XLSX_MIMETYPE
    else:
        text = io.StringIO()
        text.write("\ufeff")
        writer = csv.writer(text)
        for line in lines:
            writer.writerow([spreadsheet_safe(value) for value in line])
        data, mimetype = text.getvalue().encode("utf-8"), "text/csv"
    job.result_name = f"compliance.{kind}"
    steps.put_file(job, job.result_name, mimetype, data)
    with force_locale(owner.language or "en"):
        job.summary = _("%(n)d rows.", n=len(lines) - 1)
    steps.advance(job, len(lines) - 1)


def send_reminders(job: Job) -> None:
    """Queue this week's digests and send the outbox a chunk at a time (each message once)."""
    from learning.agency.notify_cli import configured_mailer, smtp_settings

    owner = db.session.get(User, job.owner_id) if job.owner_id else None  # None: the CLI
    day = date.fromisoformat(job.params["day"]) if job.params.get("day") else utcnow().date()
    queue_digests(day)
    unsent = db.session.scalar(sa.select(sa.func.count(Notification.id))
                               .where(Notification.sent_at.is_(None)))
    steps.advance(job, 0, total=unsent)
    mailer, _where = configured_mailer(smtp_settings())
    sent = failed = 0
    size = steps.chunk_size()
    with mailer:
        while True:
            report = send_pending(mailer, limit=size)
            sent, failed = sent + report.sent, failed + report.failed
            steps.advance(job, min(sent + failed, unsent))
            if report.sent == 0 or report.sent + report.failed < size:
                break
    with force_locale(owner.language if owner and owner.language else "en"):
        job.summary = _("%(sent)d sent, %(failed)d failed (retried by the next run).",
                        sent=sent, failed=failed)
    db.session.commit()


def remind_officers(job: Job) -> None:
    """Queue this week's digest for each officer behind in the owner's scope, and send it.

    Run again (a retry, a second press in the same week), it queues nothing new and
    sends only what is still unsent: each officer gets one such e-mail a week for the
    same list. A retry in a later week works on that week's list.
    """
    from learning.agency.notify_cli import configured_mailer, smtp_settings

    owner = _owner(job)
    today = utcnow().date()
    day = date.fromisoformat(job.params["day"]) if job.params.get("day") else today
    if day.isocalendar()[:2] != today.isocalendar()[:2]:
        day = today  # retried in a later week: last week's list would be out of date
    keys = queue_scope_digests(owner, day)
    steps.advance(job, 0, total=len(keys))
    mailer, _where = configured_mailer(smtp_settings())
    with mailer:
        report = send_keyed(mailer, keys, lambda so_far: steps.advance(
            job, min(so_far.sent + so_far.failed + so_far.skipped, len(keys))))
    with force_locale(owner.language or "en"):
        if not keys:
            job.summary = _("No officer in your scope has training that needs attention now.")
        else:
            job.summary = _("Officers in your scope with training that needs attention: "
                            "%(due)d. Reminders sent now: %(sent)d. Not sent yet (tried "
                            "again within minutes): %(failed)d. The others were already "
                            "reminded this week.",
                            due=len(keys), sent=report.sent, failed=report.failed)
    steps.advance(job, len(keys))
    db.session.commit()


KINDS: dict[str, JobKind] = {
    "certificates": JobKind(_l("Issue certificates"), issue_certificates, "manager"),
    "export": JobKind(_l("Compliance export"), export_compliance, "manager"),
    "reminders": JobKind(_l("Send reminders"), send_reminders, "admin"),
    "officer_reminders": JobKind(_l("Remind officers"), remind_officers, "manager"),
}
