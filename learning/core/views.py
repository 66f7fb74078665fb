"""Home redirect, ``/healthz`` and ``/readyz`` (error pages: errors.py; headers: headers.py)."""

import sqlalchemy as sa
from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from learning.extensions import db
from learning.ops.readiness import readiness

bp = Blueprint("core", __name__)


ROLE_HOMES = {"admin": "admin.index", "manager": "agency.index", "trainer": "author.index"}


@bp.get("/")
def home():
    """The public landing page; signed-in people go to their role's home (officers: My training)."""
    if current_user.is_authenticated:
        return redirect(url_for(ROLE_HOMES.get(current_user.role, "training.index")))
    return render_template("core/landing.html")


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.get("/readyz")
def readyz():
    """200 when this server may take traffic (database, Redis, migrations), else 503."""
    ready, parts = readiness()
    return jsonify(parts), 200 if ready else 503
