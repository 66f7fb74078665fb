"""``/author/drafts/``: open a draft, edit its files, save, check, preview, upload images."""

from __future__ import annotations

from datetime import date

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from learning.access import login_required, role_required
from learning.agency.service import record_audit
from learning.author import drafts, media, ownership, previews, review, starters
from learning.author.blueprint import bp
from learning.author.gate import draft_or_abort, refuse
from learning.author.models import CourseDraft
from learning.catalogue.service import published_courses
from learning.core.inputs import ascii_int, wants_json
from learning.extensions import db

NEW_KINDS = ("lesson", "bank", "assessment")


def _text(name: str, limit: int = 200) -> str:
    return (request.form.get(name) or "").strip()[:limit]


def _file_param(draft: CourseDraft) -> str:
    path = request.values.get("file") or ""
    return path if path in draft.files else f"courses/{draft.course_slug}/course.md"


def _editor(draft: CourseDraft, path: str, text: str | None = None, status: int = 200,
            conflict: drafts.SaveResult | None = None):
    """The editor page for one file; ``text`` is unsaved text to keep and check."""
    saved = draft.files.get(path)
    shown = saved if text is None else text
    load = drafts.check_draft(draft, {path: shown} if text is not None else None)
    return render_template(
        "author/editor.html", draft=draft, path=path, text=shown or "",
        base=drafts.digest(conflict.theirs if conflict else saved),
        revision=conflict.revision if conflict else draft.revision, conflict=conflict,
        problems=[p for p in load.problems if p.path == path], all_problems=load.problems,
        preview=previews.render_file(draft.course_slug, draft.assets, path, shown or "",
                                     _media_url(draft)),
        kind=drafts.file_kind(draft.course_slug, path),
        may_edit=ownership.may_edit(current_user, draft.course_slug),
        comments=[c for c in review.comments(draft) if c[0].path in (path, "")],
        publishable=review.may_publish_now(draft, _review_for_all()),
    ), status


def _media_url(draft: CourseDraft) -> previews.MediaUrl:
    """Images in a draft's preview come from the draft's own image route."""
    return lambda sha256, extension: url_for("author.draft_media", draft_id=draft.id,
                                             sha256=sha256, extension=extension)


def _review_for_all() -> bool:
    return bool(current_app.config.get("AUTHOR_REVIEW_REQUIRED", False))


@bp.get("/drafts/")
@role_required("trainer")
def drafts_index():
    """Open drafts, and the courses this trainer may edit."""
    open_drafts = db.session.scalars(db.select(CourseDraft).where(
        CourseDraft.state.in_(("draft", "in_review", "approved")))
        .order_by(CourseDraft.updated_at.desc())).all()
    courses = [(c, v, ownership.may_edit(current_user, c.slug)) for c, v in published_courses()]
    return render_template("author/drafts.html", drafts=open_drafts, courses=courses)


@bp.post("/courses/<course_slug>/draft")
@role_required("trainer")
def open_course_draft(course_slug: str):
    """Open the course's draft (or start one from its current version)."""
    if not ownership.may_edit(current_user, course_slug):
        return refuse(_("You may not edit this course; an admin can make you an editor."), 403)
    try:
        draft, created = drafts.open_draft(course_slug, current_user)
    except LookupError:
        return refuse(_("There is no such course."), 404)
    if created:
        record_audit(current_user, "author.draft_created", course_slug, {"draft": draft.id})
        db.session.commit()
    return redirect(url_for("author.editor", draft_id=draft.id))


@bp.post("/drafts/new")
@role_required("trainer")
def new_course():
    """Start a new course from a template; its author becomes its owner."""
    slug, title = _text("slug", 100).lower(), _text("title")
    if not title:
        return refuse(_("Give the course a title."))
    try:
        draft = drafts.new_course_draft(slug, starters.course_files(slug, title, date.today()),
                                        current_user)
    except drafts.DraftError as exc:
        return refuse(_("That name is taken.") if str(exc) == "taken" else
                      _("A course name is lower-case words joined by hyphens, "
                        "such as 'document-checks'."))
    if current_user.role == "trainer":
        ownership.grant(slug, current_user.email, "owner", None)
    record_audit(current_user, "author.draft_created", slug, {"draft": draft.id, "new": True})
    db.session.commit()
    flash(_("New course started. Nothing is published until you publish it."), "success")
    return redirect(url_for("author.editor", draft_id=draft.id))


@bp.get("/drafts/<int:draft_id>/")
@role_required("trainer")
def editor(draft_id: int):
    """One file of the draft: its text, problems with line numbers, and a preview."""
    draft = draft_or_abort(draft_id)
    return _editor(draft, _file_param(draft))


@bp.post("/drafts/<int:draft_id>/save")
@role_required("trainer")
def save(draft_id: int):
    """Save one file (the form's Save and the autosave script); 409 with a diff if stale."""
    draft = draft_or_abort(draft_id, "edit")
    path, text = request.form.get("path") or "", request.form.get("text")
    revision = ascii_int(request.form.get("revision"))
    if text is None or revision is None:
        return refuse(_("The form is incomplete: reload the page."))
    try:
        result = drafts.save_file(draft, path, text, revision, request.form.get("base") or "",
                                  current_user)
    except drafts.DraftError as exc:
        return refuse(_draft_error(str(exc)))
    if not result.saved:
        db.session.rollback()
        if wants_json():
            return jsonify(conflict=True, revision=result.revision, diff=result.diff,
                           base=drafts.digest(result.theirs)), 409
        return _editor(draft, path, drafts.normalise(text), 409, result)
    if result.first_save or result.reopened:
        record_audit(current_user, "author.draft_saved", draft.course_slug,
                     {"draft": draft.id, "path": path, "reopened": result.reopened})
    db.session.commit()
    if wants_json():
        return jsonify(saved=True, revision=result.revision,
                       base=drafts.digest(drafts.normalise(text)))
    flash(_("Saved."), "success")
    return redirect(url_for("author.editor", draft_id=draft.id, file=path))


def _draft_error(code: str) -> str:
    return {"state": _("This draft can no longer be changed."),
            "path": _("That is not a file this course can hold."),
            "size": _("The file is too large, or the draft holds too many files."),
            "exists": _("A file with that name already exists."),
            "stale": _("Someone saved the draft at the same moment: try again."),
            }.get(code, _("The request could not be carried out."))


@bp.post("/drafts/<int:draft_id>/check")
@role_required("trainer")
def check(draft_id: int):
    """Check unsaved text as ``content check`` would: JSON for the script, else the page."""
    draft = draft_or_abort(draft_id)
    path, text = request.form.get("path") or "", request.form.get("text")
    if path not in draft.files or text is None or len(text) > drafts.MAX_TEXT_BYTES:
        return refuse(_("That is not a file of this draft."))
    text = drafts.normalise(text)
    if not wants_json():
        return _editor(draft, path, text)
    load = drafts.check_draft(draft, {path: text})
    preview = previews.render_file(draft.course_slug, draft.assets, path, text,
                                   _media_url(draft))
    return jsonify(problems=[{"path": p.path, "line": p.line, "message": p.message,
                              "severity": p.severity} for p in load.problems if p.path == path],
                   others=sum(1 for p in load.problems if p.path != path),
                   preview=preview.rendered.html if preview else None)


@bp.post("/drafts/<int:draft_id>/files")
@role_required("trainer")
def add_file(draft_id: int):
    """A new lesson, bank or assessment from a template that passes the check."""
    draft = draft_or_abort(draft_id, "edit")
    kind, name, title = _text("kind", 20), _text("name", 90).lower(), _text("title")
    slug = draft.course_slug
    course_path = f"courses/{slug}/course.md"
    if kind not in NEW_KINDS or not drafts.SLUG.fullmatch(name or "-"):
        return refuse(_("A file name is lower-case words joined by hyphens."))
    if kind == "lesson":
        new = {f"courses/{slug}/{name}.md": starters.lesson_text(title or name, date.today())}
        opened = f"courses/{slug}/{name}.md"
    elif kind == "bank":
        new = {f"quizzes/{slug}/{name}.yaml": starters.bank_text(slug, name)}
        opened = f"quizzes/{slug}/{name}.yaml"
    else:
        new = starters.assessment_files(slug, name)
        opened = f"quizzes/{slug}/{name}.yaml"
    updates = {}
    if kind == "lesson" and course_path in draft.files:
        updates[course_path] = starters.add_lesson_to_course(draft.files[course_path], name,
                                                             title or name)
    try:
        drafts.add_files(draft, new, current_user, updates)
    except drafts.DraftError as exc:
        db.session.rollback()
        return refuse(_draft_error(str(exc)), 409 if str(exc) == "stale" else 400)
    record_audit(current_user, "author.file_added", slug, {"draft": draft.id, "path": opened})
    db.session.commit()
    return redirect(url_for("author.editor", draft_id=draft.id, file=opened))


@bp.post("/drafts/<int:draft_id>/media")
@role_required("trainer")
def upload(draft_id: int):
    """Upload an image into a lesson: re-encoded, stored by hash, inserted with its alt text."""
    draft = draft_or_abort(draft_id, "edit")
    path = request.form.get("path") or ""
    if drafts.file_kind(draft.course_slug, path) not in ("lesson", "course") or \
            path not in draft.files:
        return refuse(_("Choose the lesson the image goes into."))
    storage = request.files.get("image")
    data = storage.read(media.MAX_UPLOAD_BYTES + 1) if storage else b""
    try:
        stored = media.store_image(data, request.form.get("alt") or "")
        drafts.add_image(draft, path, stored.markdown, stored.path, stored.sha256, current_user)
    except media.ImageRefused as exc:
        db.session.rollback()
        return refuse(_image_error(exc.reason), 413 if exc.reason == "too_large" else 400)
    except drafts.DraftError as exc:
        db.session.rollback()
        return refuse(_draft_error(str(exc)), 409 if str(exc) == "stale" else 400)
    record_audit(current_user, "author.image_uploaded", draft.course_slug,
                 {"draft": draft.id, "path": stored.path})
    db.session.commit()
    flash(_("Image added at the end of the lesson; move the line where it belongs."), "success")
    return redirect(url_for("author.editor", draft_id=draft.id, file=path))


@bp.get("/drafts/<int:draft_id>/media/<sha256>.<extension>")
@login_required
def draft_media(draft_id: int, sha256: str, extension: str):
    """An image of a draft: for its course's owners, editors, reviewers and admins (404
    for anyone else, as for an unknown hash)."""
    asset = media.draft_image(db.session.get(CourseDraft, draft_id), sha256, extension,
                              current_user) or abort(404)
    return Response(asset.data, mimetype=media.MEDIA_TYPES[extension])


def _image_error(reason: str) -> str:
    return {"alt": _("Describe the image in the alt text: officers using a screen reader "
                     "hear it instead of seeing the image."),
            "empty": _("The file is empty."),
            "too_large": _("The image is larger than 5 MB."),
            "too_many_pixels": _("The image has too many pixels; make it smaller first."),
            "markup": _("Only PNG, JPEG and WebP images are accepted (not SVG or HTML)."),
            "not_an_image": _("Only PNG, JPEG and WebP images are accepted."),
            "damaged": _("The image is damaged or incomplete."),
            }.get(reason, _("The image was refused."))


@bp.get("/drafts/<int:draft_id>/questions")
@role_required("trainer")
def questions(draft_id: int):
    """A quiz file's questions as officers see them (no key) or as reviewers see them."""
    draft = draft_or_abort(draft_id)
    path = _file_param(draft)
    if drafts.file_kind(draft.course_slug, path) != "quiz":
        return refuse(_("Question previews are for question banks."), 404)
    mode = "reviewer" if request.args.get("mode") == "reviewer" else "officer"
    preview = previews.preview_questions(path, draft.files[path])
    load = drafts.check_draft(draft)
    return render_template("author/questions.html", draft=draft, path=path, mode=mode,
                           preview=preview, saved={},
                           problems=[p for p in load.problems if p.path == path])
