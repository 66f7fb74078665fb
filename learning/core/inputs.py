"""Hostile input stopped at the edge: NUL bytes, and numbers that are ASCII and 64-bit.

PostgreSQL refuses NUL bytes in text and both databases refuse integers past 64 bits,
so either would surface as a 500 deep inside a query. Python's ``str.isdigit`` and
``int`` accept Unicode digits ("١٢٣", "²"), so neither is a parser for user input.
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

MAX_INT64 = 2**63 - 1
MAX_PAGE = 10**9  # page x page size stays far inside 64 bits
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def wants_json() -> bool:
    """The caller (a page's script: autosave, the editor's check) asked for JSON."""
    return request.accept_mimetypes.best == "application/json"


def ascii_int(value: str | None, *, minimum: int = 0, maximum: int = MAX_INT64) -> int | None:
    """``value`` as an int if it is ASCII digits within [minimum, maximum], else None."""
    if value is None or not _ASCII_DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` for ids: ASCII digits only and at most 64 bits; anything else is a 404."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_INT64, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def _has_nul(*texts: str) -> bool:
    return any("\x00" in text for text in texts)


def refuse_nul_bytes() -> None:
    """400 for a NUL byte in the path, a query argument or a form field (name or value)."""
    if _has_nul(request.path):
        abort(400, description=_("The address contains a character that is not allowed."))
    # A NUL reaches an argument only as %00 or a raw byte, and a form only with a body:
    # most requests have neither, so nothing is parsed for them.
    query = request.query_string
    has_body = bool(request.content_length or request.headers.get("Transfer-Encoding"))
    sources = ([request.args] if b"\x00" in query or b"%00" in query else []) + \
        ([request.form] if has_body else [])
    for data in sources:
        for key, values in data.lists():
            if _has_nul(key, *values):
                abort(400, description=_("The request contains a character that is not "
                                         "allowed (a NUL byte)."))
    for storage in request.files.values() if has_body else ():
        if _has_nul(storage.filename or ""):
            abort(400, description=_("The file name contains a character that is not allowed."))


def init_app(app: Flask) -> None:
    """Bounded ids in every URL rule, and the NUL check before any other request hook."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul_bytes)
