"""``/agency/export.xlsx`` and reminder settings."""

from flask import Blueprint

bp = Blueprint("agency_exports", __name__, url_prefix="/agency")
