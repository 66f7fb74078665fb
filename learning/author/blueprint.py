"""The ``author`` blueprint (``/author/``), shared by the author view modules."""

from flask import Blueprint

bp = Blueprint("author", __name__, url_prefix="/author")
