"""``/agency/``: compliance at a glance, exports, assignments, officers' transcripts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from learning.access import Viewer, role_required, visible_person_or_404
from learning.accounts.forms import AgencyTimeZoneForm
from learning.agency import charts, compliance, dashboard, exports
from learning.agency.exports import EXPORT_COLUMNS  # noqa: F401 (the exports' header)
from learning.agency.forms import AssignmentForm, GrantAttemptsForm, RemoveAssignmentForm
from learning.agency.models import Assignment
from learning.agency.service import (
    AgencyError,
    PastDueDate,
    assignment_for,
    assignments_of,
    create_assignment,
    officer_emails_of,
    record_audit,
    save_time_zone,
    units_of,
    update_assignment,
)
from learning.agency.service import remove_assignment as remove_assignment_service
from learning.assessments.service import grant_new_attempts
from learning.catalogue.service import published_courses
from learning.certificates.service import current_version
from learning.core.inputs import MAX_PAGE, ascii_int
from learning.core.localtime import viewer_today
from learning.core.spreadsheets import spreadsheet_safe
from learning.extensions import db
from learning.languages.service import native_name, normalise, shipped
from learning.transcript.service import transcript

bp = Blueprint("agency", __name__, url_prefix="/agency")
PAGE_SIZE = 50


def _filters() -> compliance.Filters:
    def number(name: str) -> int | None:
        return ascii_int(request.args.get(name))

    state = request.args.get("state") or None
    if state is not None and state not in compliance.STATES:
        abort(400)
    return compliance.Filters(number("unit"), number("course"), state)


def _window() -> int:
    return current_app.config["EXPIRING_WITHIN_DAYS"]


@bp.get("/")
@role_required("manager")
def index():
    """Totals per unit and the officers x courses matrix, filtered, a page at a time."""
    filters = _filters()
    page = ascii_int(request.args.get("page"), minimum=1, maximum=MAX_PAGE) or 1
    view = compliance.page_view(current_user, viewer_today(), _window(), filters, page,
                                PAGE_SIZE)
    return render_template(
        "agency/index.html", totals=view.totals, filters=filters, officers=view.officers,
        page=page, has_next=view.has_next, courses=view.courses,
        states=compliance.STATES, labels=compliance.STATE_LABELS, row_count=view.row_count,
        units=units_of(current_user.agency_id) if current_user.agency_id else [],
        all_courses=[(c.id, v.title) for c, v in published_courses()])


@bp.get("/dashboard")
@role_required("manager")
def dashboard_page():
    """Charts of compliance per unit, its trend and certificates expiring, each with a table."""
    today = viewer_today()
    view = dashboard.build(current_user, today, _window())
    top = charts.count_ticks(max((n for _start, n in view.weeks), default=0))
    return render_template(
        "agency/dashboard.html", view=view, today=today,
        units_chart=charts.horizontal_percent([(s.label, s.percent) for s in view.units]),
        trend_chart=charts.columns([(s.label[5:], s.percent if s.known else 0,
                                     f"{s.percent}" if s.known else "–") for s in view.trend
                                    ], 100, [0, 50, 100], "{:g} %"),
        weeks_chart=charts.columns([(start.strftime("%d/%m") if n % 2 == 0 else "", count,
                                     str(count)) for n, (start, count) in
                                    enumerate(view.weeks)], top[-1], top))


def export_rows(filters: compliance.Filters, viewer: Viewer | None = None
                ) -> Iterator[tuple[str | date | int | None, ...]]:
    """The export's lines for the signed-in manager (translated now, in the request)."""
    return exports.export_rows(filters, viewer or Viewer.of(current_user), viewer_today(),
                               _window())


def begin_export(kind: str) -> tuple[compliance.Filters, Viewer]:
    """Audit an export and return its filters and a viewer that outlives the session."""
    filters = _filters()
    viewer = Viewer.of(current_user)  # read before the commit expires current_user
    record_audit(current_user, f"export.{kind}", "compliance", {"filters": filters.__dict__})
    db.session.commit()
    return filters, viewer


@bp.get("/export.csv")
@role_required("manager")
def export_csv():
    """The compliance rows as CSV, streamed so a large agency does not fill memory.

    UTF-8 with a byte-order mark: without it Excel reads the file in the local code
    page and garbles every accented name.
    """
    filters, viewer = begin_export("csv")

    lines = export_rows(filters, viewer)  # labels translated now, in the request

    def generate():
        yield "\ufeff"
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for line in lines:
            writer.writerow([spreadsheet_safe(value) for value in line])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="compliance.csv"'
    return response


def _assignment_form(obj=None) -> AssignmentForm:
    """The assignment form with the courses and the manager's units to choose from."""
    form = AssignmentForm(obj=obj)
    form.course_id.choices = [SelectChoice(c.id, v.title) for c, v in published_courses()]
    form.unit_ids.choices = [SelectChoice(u.id, u.name) for u in units_of(current_user.agency_id)
                             if current_user.unit_id in (None, u.id)]
    return form


def _save_assignment(form: AssignmentForm, assignment: Assignment | None) -> bool:
    """Create or change an assignment from a valid form; False (flashed) if refused."""
    emails = [e for e in (form.officer_emails.data or "").splitlines() if e.strip()]
    terms = (form.course_id.data, form.due_on.data, form.recurrence.data,
             form.every_months.data, form.unit_ids.data or [], emails)
    try:
        if assignment is None:
            create_assignment(current_user, *terms, allow_past=form.confirm_past.data)
        else:
            update_assignment(current_user, assignment, *terms,
                              allow_past=form.confirm_past.data)
    except PastDueDate as exc:
        db.session.rollback()
        form.due_on.errors = [str(exc)]
        form.past_due = True
        return False
    except AgencyError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    return True


@bp.route("/assignments/", methods=["GET", "POST"])
@role_required("manager")
def assignments():
    """The agency's assignments, and a form to add one."""
    if current_user.agency_id is None:
        abort(403)
    form = _assignment_form()
    if form.validate_on_submit() and _save_assignment(form, None):
        flash(_("The course is assigned."), "success")
        return redirect(url_for(".assignments"))
    return render_template("agency/assignments.html", form=form,
                           assignments=assignments_of(current_user.agency_id),
                           titles={c.value: c.label for c in form.course_id.choices})


@bp.route("/assignments/<int:assignment_id>/", methods=["GET", "POST"])
@role_required("manager")
def edit_assignment(assignment_id: int):
    """Change an assignment, or remove it (audited)."""
    if current_user.agency_id is None:
        abort(403)
    assignment = assignment_for(current_user, assignment_id)
    if assignment is None:
        abort(404)
    form = _assignment_form(assignment)
    if request.method == "GET":
        form.unit_ids.data = [t.unit_id for t in assignment.targets if t.unit_id]
        form.officer_emails.data = "\n".join(sorted(officer_emails_of(assignment).values()))
    elif form.validate_on_submit() and _save_assignment(form, assignment):
        flash(_("The assignment is changed."), "success")
        return redirect(url_for(".assignments"))
    return render_template("agency/assignment_edit.html", form=form, assignment=assignment,
                           remove=RemoveAssignmentForm())


@bp.post("/assignments/<int:assignment_id>/remove")
@role_required("manager")
def remove_assignment(assignment_id: int):
    """Stop requiring the course: officers keep their progress and certificates."""
    if current_user.agency_id is None:
        abort(403)
    assignment = assignment_for(current_user, assignment_id)
    if assignment is None:
        abort(404)
    if not RemoveAssignmentForm().validate_on_submit():
        abort(400)
    remove_assignment_service(current_user, assignment)
    flash(_("The assignment is removed. Progress and certificates are kept."), "success")
    return redirect(url_for(".assignments"))


@bp.get("/officers/<int:user_id>/")
@role_required("manager")
def officer(user_id: int):
    """One officer's transcript, if the manager may see them (each look is audited)."""
    person = visible_person_or_404(user_id, current_user)
    records = transcript(person.id, viewer_today(), _window())
    record_audit(current_user, "transcript.view", person.email, {"user_id": person.id})
    db.session.commit()
    return render_template("agency/officer.html", person=person, records=records,
                           form=GrantAttemptsForm())


@bp.post("/officers/<int:user_id>/courses/<int:course_id>/grant-attempts")
@role_required("manager")
def grant_attempts(user_id: int, course_id: int):
    """Give an officer a fresh set of attempts at a course's final assessment (audited)."""
    person = visible_person_or_404(user_id, current_user)
    form = GrantAttemptsForm()
    version = current_version(course_id) if form.validate_on_submit() else None
    if version is None or not version.completion_assessment:
        abort(400)
    count = grant_new_attempts(person.id, course_id, version.completion_assessment)
    record_audit(current_user, "attempts.grant", person.email,
                 {"course_id": course_id, "attempts_set_aside": count})
    db.session.commit()
    flash(_("%(name)s has a new set of attempts at the final assessment. The usual wait "
            "after an attempt, if the assessment sets one, still applies.",
            name=person.display_name), "success")
    return redirect(url_for(".officer", user_id=user_id))


@bp.post("/settings/language")
@role_required("manager")
def settings_language():
    """The agency's interface language: its people's default until they choose their own."""
    agency = current_user.agency if current_user.unit_id is None else None
    agency = agency or abort(403)
    requested = request.form.get("language", "")
    language = normalise(requested, shipped()) if requested else ""
    if language is None:
        abort(400, description=_("That language is not offered here."))
    agency.language = language or None
    record_audit(current_user, "agency.language", agency.slug, {"language": language or None},
                 agency_id=agency.id)
    db.session.commit()
    flash(_("The agency's language is saved."), "success")
    return redirect(url_for(".settings"), 303)


@bp.route("/settings/", methods=["GET", "POST"])
@role_required("manager")
def settings():
    """The agency's time zone, set by an agency-wide manager (unit managers only read it)."""
    agency = current_user.agency if current_user.unit_id is None else None
    agency = agency or abort(403)
    form = AgencyTimeZoneForm(data={"time_zone": agency.time_zone})
    if form.validate_on_submit() and save_time_zone(current_user, agency, form):
        flash(_("The agency's time zone is saved."), "success")
        return redirect(url_for(".settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("agency/settings.html", agency=agency, form=form,
                           languages=[(c, native_name(c)) for c in shipped()]), status
