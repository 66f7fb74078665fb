"""``/author/courses/<course>/versions/`` and ``/author/import``: history, diff, rollback, zips."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from learning.access import fresh_mfa_required, role_required
from learning.agency.service import record_audit
from learning.author import intake
from learning.author.drafts import DraftError
from learning.author.ownership import may_edit
from learning.author.version_forms import ConfirmZipForm, RollbackForm, ZipUploadForm
from learning.catalogue import versions
from learning.catalogue import zip_import as zips
from learning.catalogue.models import Course, CourseVersion
from learning.core.inputs import ascii_int
from learning.extensions import db

bp = Blueprint("versions", __name__, url_prefix="/author")
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _course_or_404(course_slug: str) -> Course:
    return versions.find_course_by_slug(course_slug) or abort(404)


def _version_or_404(course: Course, number: int) -> CourseVersion:
    return versions.version_by_number(course, number) or abort(404)


def _review_for_all() -> bool:
    return bool(current_app.config.get("AUTHOR_REVIEW_REQUIRED", False))


def _draft_refused(error: DraftError) -> str:
    """Why a rollback or an import could not become a draft."""
    if str(error) == "open":
        return _("This course already has an open draft: publish or withdraw it first.")
    return _("These files no longer pass the checks, so they cannot be sent to review.")


def _sent_to_review(draft, action: str, details: dict):
    """Audit a rollback or an import that now waits for review, and show its draft."""
    record_audit(current_user, action, draft.course_slug, {"draft": draft.id, **details})
    db.session.commit()
    flash(_("Sent to review as a draft: another owner or editor approves it, then it can "
            "be published."), "success")
    return redirect(url_for("author.editor", draft_id=draft.id), 303)


@bp.get("/courses/<course_slug>/versions/")
@role_required("trainer")
def history(course_slug: str):
    """Every published version of a course, with diff, download and rollback links."""
    course = _course_or_404(course_slug)
    return render_template("author/versions.html", course=course,
                           rows=versions.history(course))


@bp.get("/courses/<course_slug>/versions/diff")
@role_required("trainer")
def diff(course_slug: str):
    """The changes between any two versions (``?from=N&to=M``), file by file."""
    course = _course_or_404(course_slug)
    old_number = ascii_int(request.args.get("from"), minimum=1)
    new_number = ascii_int(request.args.get("to"), minimum=1)
    if old_number is None or new_number is None:
        abort(400, description=_("Choose two version numbers to compare."))
    old, new = _version_or_404(course, old_number), _version_or_404(course, new_number)
    return render_template("author/versions_diff.html", course=course,
                           diff=versions.diff_versions(old, new),
                           rows=versions.history(course), limit=versions.MAX_DIFF_LINES)


@bp.get("/courses/<course_slug>/versions/<int:number>.zip")
@role_required("trainer")
def download(course_slug: str, number: int):
    """One version as a zip of its course and quiz files (deterministic bytes)."""
    version = _version_or_404(_course_or_404(course_slug), number)
    response = make_response(versions.export_zip(version))
    response.mimetype = "application/zip"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{versions.zip_name(version)}"'
    return response


@bp.route("/courses/<course_slug>/versions/<int:number>/rollback", methods=["GET", "POST"])
@role_required("trainer")
@fresh_mfa_required
def rollback(course_slug: str, number: int):
    """Ask, then publish an old version's content again as a new version."""
    course = _course_or_404(course_slug)
    if not may_edit(current_user, course.slug):
        abort(403, description=_("Only the course's owners and editors (or an admin) may roll "
                                 "it back."))
    version = _version_or_404(course, number)
    current = course.current_version
    form = RollbackForm()
    is_current = current is not None and current.id == version.id
    if request.method == "GET" or is_current:
        changes = versions.diff_versions(current, version) if current and not is_current \
            else None
        to_review = not is_current and intake.rollback_goes_to_review(
            current_user, course, version, _review_for_all())
        return render_template("author/versions_rollback.html", course=course, version=version,
                               current=current, changes=changes, form=form,
                               is_current=is_current, next_number=versions.next_number(course),
                               limit=versions.MAX_DIFF_LINES, to_review=to_review), \
            409 if request.method == "POST" else 200
    if not form.validate_on_submit():
        abort(400)
    try:
        done = intake.rollback(current_user, course, version, _review_for_all())
        if done.draft is not None:
            return _sent_to_review(done.draft, "course.rollback_requested", {
                "content_of": version.number, "replaced": current.number if current else None})
        created = done.version
        db.session.commit()
    except (versions.VersionError, DraftError) as exc:
        db.session.rollback()
        error = _draft_refused(exc) if isinstance(exc, DraftError) else str(exc)
        return render_template("author/versions_rollback.html", course=course, version=version,
                               current=current, changes=None, form=form, is_current=False,
                               next_number=versions.next_number(course), error=error,
                               to_review=isinstance(exc, DraftError)), \
            409 if isinstance(exc, DraftError) else 422
    except IntegrityError:  # someone published meanwhile and took the number
        db.session.rollback()
        flash(_("Another version was published at the same moment. Check the history and "
                "try again."), "error")
        return redirect(url_for(".history", course_slug=course.slug), 303)
    flash(_("Version %(new)d is published with the content of version %(old)d.",
            new=created.number, old=version.number), "success")
    return redirect(url_for(".history", course_slug=course.slug), 303)


def _upload_bytes(form: ZipUploadForm) -> bytes:
    data = form.archive.data.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        abort(413)
    return data


@bp.route("/import", methods=["GET", "POST"])
@role_required("trainer")
@fresh_mfa_required
def import_zip():
    """Upload a course zip and see every problem, or what publishing it would change."""
    form = ZipUploadForm()
    if request.method == "GET":
        return render_template("author/versions_import.html", form=form)
    if not form.validate_on_submit():
        return render_template("author/versions_import.html", form=form), 400
    preview = zips.preview_zip(current_user, _upload_bytes(form))
    if not preview.ok:
        return render_template("author/versions_import.html", form=form, preview=preview), 422
    confirm = ConfirmZipForm(pending_id=preview.pending.id, sha256=preview.sha256,
                             formdata=None)
    return render_template("author/versions_import.html", form=form, preview=preview,
                           confirm=confirm, filename=form.archive.data.filename,
                           to_review=intake.import_goes_to_review(current_user, preview,
                                                                  _review_for_all()))


@bp.post("/import/confirm")
@role_required("trainer")
@fresh_mfa_required
def confirm_import():
    """Publish the previewed zip, unless the course moved on or the files no longer pass."""
    form = ConfirmZipForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        done = intake.confirm_import(current_user, form.pending_id.data, form.sha256.data,
                                     lambda slug: may_edit(current_user, slug),
                                     _review_for_all())
        if done.draft is not None:
            return _sent_to_review(done.draft, "course.import_requested",
                                   {"sha256": form.sha256.data})
        version, outcome = done.version, done.published
        db.session.commit()
    except zips.ZipImportError as exc:
        db.session.rollback()
        return render_template("author/versions_import.html", form=ZipUploadForm(formdata=None),
                               problems=exc.problems), 409
    except DraftError as exc:
        db.session.rollback()
        flash(_draft_refused(exc), "error")
        return render_template("author/versions_import.html",
                               form=ZipUploadForm(formdata=None)), 409
    except IntegrityError:
        db.session.rollback()
        abort(409)
    if outcome == "unchanged":
        flash(_("The zip matches the current version %(n)d: nothing changed.",
                n=version.number), "info")
    else:
        flash(_("Version %(n)d of %(course)s is published.", n=version.number,
                course=version.title), "success")
    return redirect(url_for(".history", course_slug=version.course.slug), 303)
