"""Review and publish a draft: submit, approve, request changes, comment, withdraw, publish."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learning.access import fresh_mfa_required, role_required
from learning.agency.service import record_audit
from learning.author import drafts, review
from learning.author.blueprint import bp
from learning.author.gate import draft_or_abort, refuse
from learning.catalogue.publishing import PublishError, check_base, plan_publish, publish_course
from learning.catalogue.versions import MAX_DIFF_LINES, ROLLBACK_ACTION
from learning.catalogue.zip_import import IMPORT_ACTION
from learning.extensions import db

MAX_NOTE = 2000
ORIGIN_ACTIONS = {"rollback": ROLLBACK_ACTION, "import": IMPORT_ACTION}


def _back(draft_id: int):
    return redirect(url_for("author.editor", draft_id=draft_id, file=request.form.get("path")))


def _for_all() -> bool:
    return bool(current_app.config.get("AUTHOR_REVIEW_REQUIRED", False))


@bp.post("/drafts/<int:draft_id>/submit")
@role_required("trainer")
def submit(draft_id: int):
    """Send the draft to review (only when the check finds no errors)."""
    draft = draft_or_abort(draft_id, "edit")
    try:
        review.submit(draft, current_user)
    except drafts.DraftError as exc:
        return refuse(_("Fix the errors the check lists first.") if str(exc) == "problems"
                      else _("Only a draft can be sent to review."), 409)
    record_audit(current_user, "author.draft_submitted", draft.course_slug, {"draft": draft.id})
    db.session.commit()
    flash(_("Sent to review. Another owner or editor approves it."), "success")
    return _back(draft.id)


@bp.post("/drafts/<int:draft_id>/approve")
@role_required("trainer")
def approve(draft_id: int):
    """Approve a draft in review; its author never may."""
    draft = draft_or_abort(draft_id, "review")
    try:
        review.approve(draft, current_user)
    except drafts.DraftError as exc:
        if str(exc) == "own":
            record_audit(current_user, "author.draft_approved", draft.course_slug,
                         {"draft": draft.id}, outcome="denied")
            db.session.commit()
            return refuse(_("You wrote or changed this draft: someone else must approve it."),
                          403)
        return refuse(_("Only a draft in review can be approved."), 409)
    record_audit(current_user, "author.draft_approved", draft.course_slug, {"draft": draft.id})
    db.session.commit()
    flash(_("Approved: it can be published."), "success")
    return _back(draft.id)


@bp.post("/drafts/<int:draft_id>/changes")
@role_required("trainer")
def request_changes(draft_id: int):
    """Send a draft in review back to its author with a comment."""
    draft = draft_or_abort(draft_id, "review")
    try:
        review.request_changes(draft, current_user, request.form.get("comment") or "",
                               request.form.get("path") or "")
    except drafts.DraftError as exc:
        return refuse({"own": _("You wrote or changed this draft: someone else reviews it."),
                       "comment": _("Say what should change (up to 4,000 characters)."),
                       "path": _("That is not a file of this draft.")}.get(
            str(exc), _("Only a draft in review can be sent back.")),
            403 if str(exc) == "own" else 400)
    record_audit(current_user, "author.draft_changes_requested", draft.course_slug,
                 {"draft": draft.id})
    db.session.commit()
    flash(_("Sent back to the author with your comment."), "success")
    return _back(draft.id)


@bp.post("/drafts/<int:draft_id>/comments")
@role_required("trainer")
def comment(draft_id: int):
    """A comment on one file of the draft."""
    draft = draft_or_abort(draft_id, "view")
    try:
        review.add_comment(draft, current_user, request.form.get("path") or "",
                           request.form.get("comment") or "")
    except drafts.DraftError:
        return refuse(_("Write a comment of up to 4,000 characters on a file of this draft."))
    record_audit(current_user, "author.comment_added", draft.course_slug, {"draft": draft.id})
    db.session.commit()
    return _back(draft.id)


@bp.post("/drafts/<int:draft_id>/withdraw")
@role_required("trainer")
def withdraw(draft_id: int):
    """Give up the draft."""
    draft = draft_or_abort(draft_id, "edit")
    try:
        review.withdraw(draft)
    except drafts.DraftError:
        return refuse(_("This draft is already closed."), 409)
    record_audit(current_user, "author.draft_withdrawn", draft.course_slug, {"draft": draft.id})
    db.session.commit()
    flash(_("Draft withdrawn."), "info")
    return redirect(url_for("author.drafts_index"))


@bp.get("/drafts/<int:draft_id>/differences")
@role_required("trainer")
def changes(draft_id: int):
    """Every changed file against the published version: what a reviewer approves."""
    draft = draft_or_abort(draft_id)
    return render_template("author/changes.html", draft=draft,
                           diff=review.file_changes(draft), limit=MAX_DIFF_LINES)


def _plan(draft):
    """The loaded course files and the plan, or a refusal response."""
    if not review.may_publish_now(draft, _for_all()):
        return None, None, refuse(_("This draft needs an approval from a reviewer first."), 409)
    load = drafts.check_draft(draft)
    if load.course is None:
        return None, None, refuse(_("Fix the errors the check lists first."), 409)
    base = check_base(draft.course_slug, load.course, draft.base_hash)
    if not base.ok:
        return None, None, refuse(_("A newer version was published after this draft was "
                                    "opened: withdraw it and open a new draft."), 409)
    return load.course, plan_publish(load.course), None


@bp.route("/drafts/<int:draft_id>/publish", methods=["GET", "POST"])
@role_required("trainer")
@fresh_mfa_required
def publish(draft_id: int):
    """Per changed lesson: the diff, whom it affects, editorial or substantive; then publish."""
    draft = draft_or_abort(draft_id, "edit")
    files, plan, refused = _plan(draft)
    if refused is not None:
        return refused
    if request.method == "GET":
        return render_template("author/publish.html", draft=draft, plan=plan, chosen={},
                               notes={}, errors=[])
    chosen = {slug: request.form.get(f"significance-{slug}") for slug in plan.changed_slugs}
    notes = {slug: (request.form.get(f"note-{slug}") or "").strip()[:MAX_NOTE]
             for slug in plan.changed_slugs}
    missing = [slug for slug, value in chosen.items()
               if value not in ("editorial", "substantive")]
    if missing or request.form.get("confirm") != "yes":
        return render_template("author/publish.html", draft=draft, plan=plan, chosen=chosen,
                               notes=notes, errors=missing or ["confirm"]), 400
    try:
        version, outcome = publish_course(
            files, significance=chosen,
            notes={slug: note for slug, note in notes.items()
                   if note and chosen[slug] == "substantive"},
            recertify=request.form.get("recertify") == "yes", origin=draft.origin,
            actor=current_user)
    except PublishError:
        db.session.rollback()
        return refuse(_("The publish request was refused; reload the page."), 409)
    draft.state, draft.published_version_id = "published", version.id
    record_audit(current_user, "author.draft_published", draft.course_slug,
                 {"draft": draft.id, "version": version.number, "outcome": outcome})
    if draft.origin in ORIGIN_ACTIONS:  # a reviewed rollback or zip import is now published
        record_audit(current_user, ORIGIN_ACTIONS[draft.origin], draft.course_slug,
                     {"draft": draft.id, "version": version.number, "outcome": outcome,
                      "requested_by": draft.author_id, "approved_by": draft.reviewer_id})
    db.session.commit()
    flash(_("Published as version %(n)d.", n=version.number), "success")
    return redirect(url_for("author.drafts_index"))
