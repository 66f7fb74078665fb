"""``/progress/``: the officer's transcript."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from learning.access import login_required
from learning.core.localtime import viewer_today
from learning.transcript.service import transcript

bp = Blueprint("transcript", __name__)


@bp.get("/progress/")
@login_required
def index():
    """Every course: status, progress by module, best score, certificates, what to do next."""
    today = viewer_today()
    records = transcript(current_user.id, today, current_app.config["EXPIRING_WITHIN_DAYS"])
    return render_template("transcript/index.html", records=records, today=today)
