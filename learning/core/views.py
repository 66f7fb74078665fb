"""Home redirect and ``/healthz`` (error pages: errors.py; headers: headers.py)."""

import sqlalchemy as sa
from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from learning.extensions import db

bp = Blueprint("core", __name__)


@bp.get("/")
def home():
    """Send people to their courses, or to sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("catalogue.index"))
    return redirect(url_for("accounts.login"))


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
