"""Load a draft for the signed-in trainer, or 404/403: the author views' one access helper."""

from __future__ import annotations

from flask import abort, jsonify, make_response
from flask_login import current_user

from learning.author import ownership
from learning.author.models import CourseDraft
from learning.core.inputs import wants_json
from learning.extensions import db

CHECKS = {"view": ownership.may_view, "edit": ownership.may_edit,
          "review": ownership.may_review}


def draft_or_abort(draft_id: int, need: str = "view") -> CourseDraft:
    """The draft if the user may ``need`` it: 404 when it is not theirs to see, 403 else."""
    draft = db.session.get(CourseDraft, draft_id)
    if draft is None or not ownership.may_view(current_user, draft.course_slug):
        abort(404)
    if not CHECKS[need](current_user, draft.course_slug):
        abort(403)
    return draft


def refuse(message: str, status: int = 400, **extra):
    """A clear 4xx: JSON for the script, a short page otherwise."""
    if wants_json():
        return make_response(jsonify(error=message, **extra), status)
    abort(status, description=message)
