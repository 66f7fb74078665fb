"""Absolute links (certificates, e-mails, API pages) built on ``BASE_URL``, never on ``Host``.

A request's Host header is chosen by whoever sends it; a link built from it would put an
attacker's address into a printed certificate or an invitation e-mail.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

DEBUG_BASE_URL = "http://127.0.0.1:5000"


def base_url() -> str:
    """The configured public address without a trailing slash (a local one in debug/tests)."""
    return (current_app.config.get("BASE_URL") or DEBUG_BASE_URL).rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` at the public address, inside or outside a request."""
    parts = urlsplit(base_url())
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)


def check_base_url(value: str) -> str | None:
    """Why ``value`` is not a usable public address, or None when it is."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "it must start with https:// (or http://) and name a host"
    if parts.query or parts.fragment or "@" in parts.netloc:
        return "it must not hold a query, a fragment or a user name"
    return None
