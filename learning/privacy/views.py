"""``/account/data``: an officer downloads everything Waymark holds about them."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm

from learning import ratelimit
from learning.access import login_required
from learning.agency.service import record_audit
from learning.extensions import db
from learning.privacy.service import SECTIONS, export_zip
from learning.timeutil import utcnow

bp = Blueprint("privacy", __name__)


@bp.route("/account/data", methods=["GET", "POST"])
@login_required
def index():
    """What the export holds, and a button (POST, rate-limited per user) to download it."""
    form = FlaskForm()
    if request.method == "GET":
        return render_template("privacy/index.html", form=form, sections=SECTIONS)
    if not form.validate_on_submit():
        abort(400)
    if not ratelimit.allow("data-export", current_app.config["EXPORT_RATE_LIMIT"],
                           key=f"user:{current_user.id}"):
        return render_template("privacy/index.html", form=form, sections=SECTIONS,
                               busy=True), 429
    data = export_zip(current_user)
    record_audit(current_user, "privacy.export", current_user.email)
    db.session.commit()
    response = Response(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="waymark-data-{utcnow().date().isoformat()}.zip"')
    response.headers["Cache-Control"] = "private, no-store"
    return response
