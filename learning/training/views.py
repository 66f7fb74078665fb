"""``/training/``: My training, the officer's home page."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user

from learning.access import login_required
from learning.core.localtime import viewer_today
from learning.training.service import my_training

bp = Blueprint("training", __name__)


@bp.get("/training/")
@login_required
def index():
    """Assigned courses first, most urgent on top, with due dates; then every other course."""
    today = viewer_today()  # "due today" and "overdue" in the officer's own zone
    training = my_training(current_user, today, current_app.config["EXPIRING_WITHIN_DAYS"])
    return render_template("training/index.html", training=training, today=today)
