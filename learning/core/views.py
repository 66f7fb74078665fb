"""Home redirect, ``/healthz`` and error pages."""

import sqlalchemy as sa
from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from learning.extensions import db

bp = Blueprint("core", __name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


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


@bp.after_app_request
def security_headers(response):
    """Headers every response carries: a strict CSP and no sniffing or framing."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _error(status: int, template: str):
    if request.path.startswith("/api/"):
        return jsonify(error=template), status
    return render_template(f"errors/{template}.html"), status


@bp.app_errorhandler(403)
def forbidden(_error_):
    """The signed-in user may not see this page."""
    return _error(403, "forbidden")


@bp.app_errorhandler(404)
def not_found(_error_):
    """No such page."""
    return _error(404, "not_found")


@bp.app_errorhandler(500)
def server_error(_error_):
    """Something failed on our side."""
    db.session.rollback()
    return _error(500, "server_error")
