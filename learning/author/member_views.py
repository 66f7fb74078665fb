"""``/author/courses/<course>/members``: who owns and edits a course; admins grant it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from learning.access import fresh_mfa_required, role_required
from learning.agency.service import record_audit
from learning.author import ownership
from learning.author.blueprint import bp
from learning.author.gate import refuse
from learning.content.schema import SLUG
from learning.extensions import db


def _slug_or_404(course_slug: str) -> str:
    if not SLUG.fullmatch(course_slug) or len(course_slug) > 100:
        abort(404)
    return course_slug


@bp.route("/courses/<course_slug>/members", methods=["GET", "POST"])
@role_required("trainer")
@fresh_mfa_required
def members(course_slug: str):
    """Trainers see a course's owners and editors; admins add or change them."""
    course_slug = _slug_or_404(course_slug)
    if request.method == "POST":
        if not ownership.may_grant(current_user, course_slug):
            return refuse(_("Only admins grant ownership."), 403)
        role = request.form.get("role") or ""
        try:
            member = ownership.grant(course_slug, request.form.get("email") or "", role,
                                     current_user)
        except ownership.MembershipError as exc:
            return refuse(_("Choose owner or editor.") if str(exc) == "role" else
                          _("No active trainer has that email address."))
        record_audit(current_user, "author.member_granted", course_slug,
                     {"user": member.user_id, "role": member.role})
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("author.members", course_slug=course_slug))
    return render_template("author/members.html", course_slug=course_slug,
                           members=ownership.members(course_slug),
                           may_grant=ownership.may_grant(current_user, course_slug))


@bp.post("/courses/<course_slug>/members/<int:member_id>/revoke")
@role_required("trainer")
def revoke_member(course_slug: str, member_id: int):
    """Remove an owner or editor (admins only)."""
    course_slug = _slug_or_404(course_slug)
    if not ownership.may_grant(current_user, course_slug):
        return refuse(_("Only admins grant ownership."), 403)
    member = ownership.revoke(course_slug, member_id) or abort(404)
    record_audit(current_user, "author.member_revoked", course_slug,
                 {"user": member.user_id, "role": member.role})
    db.session.commit()
    flash(_("Removed."), "success")
    return redirect(url_for("author.members", course_slug=course_slug))
