"""The ``admin`` blueprint, on its own so that each area's views can add routes to it."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
