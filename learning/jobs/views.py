"""``/jobs/``: start background jobs, watch their progress, download what they made."""

from __future__ import annotations

import io

from flask import Blueprint, abort, redirect, render_template, send_file, url_for
from flask_login import current_user
from wtforms import SelectChoice

from learning.access import login_required, role_required
from learning.agency import compliance
from learning.agency.reminders import reminder_window_days
from learning.agency.service import record_audit
from learning.catalogue.service import published_courses
from learning.core.inputs import ascii_int
from learning.extensions import db
from learning.jobs.forms import (
    CertificatesForm,
    ExportForm,
    OfficerRemindersForm,
    RemindersForm,
    RetryForm,
)
from learning.jobs.handlers import KINDS
from learning.jobs.models import FAILED
from learning.jobs.service import (
    enqueue,
    new_token,
    recent_jobs,
    result_file,
    retry,
    settle,
    valid_token,
    visible_job,
)
from learning.timeutil import utcnow

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _job_or_404(job_id: int):
    """The job if the signed-in user may see it, else 404 (never 403: ids are not hints)."""
    job = visible_job(current_user, job_id)
    if job is None:
        abort(404)
    return job


def _certificates_form(token: str | None = None) -> CertificatesForm:
    """The form with its course choices; a fresh token only when rendering it (a POST
    must bring its own, or it could not be recognised when sent twice)."""
    form = CertificatesForm(token=token) if token else CertificatesForm()
    form.course_id.choices = [SelectChoice(course.id, version.title)
                              for course, version in published_courses()]
    return form


def _start(kind: str, form, params: dict, audit: str):
    """Validate a start form, start (or find) its job, and go to the job's page."""
    if not form.validate_on_submit() or not valid_token(form.token.data):
        abort(400)
    job, created = enqueue(kind, params, current_user,
                           f"{current_user.id}:{form.token.data}")
    if created:
        record_audit(current_user, audit, str(job.id), {"kind": kind, **params})
        db.session.commit()
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


@bp.get("/")
@login_required
def index():
    """The user's recent jobs, and the buttons that start the jobs their role may run."""
    staff = current_user.has_role("manager")
    return render_template(
        "jobs/index.html", jobs=recent_jobs(current_user), kinds=KINDS,
        certificates_form=_certificates_form(new_token()) if staff else None,
        reminders_form=RemindersForm(token=new_token()) if current_user.role == "admin"
        else None)


@bp.get("/<int:job_id>")
@login_required
def show(job_id: int):
    """One job: state, progress, and its result or error; refreshes itself while it runs
    (and stops, with a retry button, once the queue has failed or lost it)."""
    job = settle(_job_or_404(job_id))
    return render_template("jobs/show.html", job=job, kinds=KINDS, retry_form=RetryForm(),
                           FAILED=FAILED)


@bp.get("/<int:job_id>/result")
@login_required
def result(job_id: int):
    """Download what a finished job made (only by whoever may see the job)."""
    found = result_file(_job_or_404(job_id))
    if found is None:
        abort(404)
    return send_file(io.BytesIO(found.data), mimetype=found.mimetype, as_attachment=True,
                     download_name=found.name, max_age=0)


@bp.post("/<int:job_id>/retry")
@login_required
def retry_job(job_id: int):
    """Start a failed job of one's own again; it resumes where it stopped."""
    job = settle(_job_or_404(job_id))
    if not RetryForm().validate_on_submit() or job.state != FAILED:
        abort(400)
    retry(job)
    return redirect(url_for("jobs.show", job_id=job.id), code=303)


@bp.post("/certificates")
@role_required("manager")
def start_certificates():
    """Issue every due certificate of a course to the officers in the user's scope."""
    form = _certificates_form()
    return _start("certificates", form, {"course_id": form.course_id.data,
                                         "pdfs": bool(form.pdfs.data)}, "job.certificates")


@bp.post("/export")
@role_required("manager")
def start_export():
    """Prepare the compliance export (CSV or XLSX) with the filters of the page."""
    form = ExportForm()
    state = form.state.data or None
    if state is not None and state not in compliance.STATES:
        abort(400)
    filters = {"unit_id": ascii_int(form.unit.data), "course_id": ascii_int(form.course.data),
               "state": state}
    return _start("export", form, {"format": form.format.data, "filters": filters},
                  f"export.{form.format.data}")


@bp.post("/reminders")
@role_required("admin")
def start_reminders():
    """Queue and send this week's reminder digests now."""
    return _start("reminders", RemindersForm(), {}, "job.reminders")


@bp.post("/officer-reminders")
@role_required("manager")
def start_officer_reminders():
    """E-mail this week's reminder to each officer behind in the user's scope, now."""
    # The day is fixed now, so a retry the same week works on the same list.
    return _start("officer_reminders", OfficerRemindersForm(),
                  {"day": utcnow().date().isoformat()}, "job.officer_reminders")


@bp.app_template_global("jobs_export_form")
def export_form_for(filters: compliance.Filters) -> ExportForm:
    """The "Prepare export" button for a compliance page showing ``filters``."""
    return ExportForm(token=new_token(), unit=filters.unit_id or "",
                      course=filters.course_id or "", state=filters.state or "")


@bp.app_template_global("jobs_officer_reminders_form")
def officer_reminders_form() -> OfficerRemindersForm:
    """The "Remind officers now" button of the compliance page."""
    return OfficerRemindersForm(token=new_token())


bp.add_app_template_global(reminder_window_days, "jobs_reminder_due_days")
