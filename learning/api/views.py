"""``/api/v1/``: officers, assignments, completions and certificates as JSON."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/agency/tokens")
