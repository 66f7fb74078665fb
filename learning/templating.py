"""Template helpers: cache-busted static URLs and small formatting filters."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, url_for
from flask_babel import ngettext


def register_template_helpers(app: Flask) -> None:
    """Add ``static_url`` and ``minutes`` to every template."""
    digests: dict[str, str] = {}

    def static_url(filename: str) -> str:
        """URL of a static file with a content hash, so it can be cached for a year."""
        digest = digests.get(filename)
        if digest is None or app.debug:
            data = (Path(app.static_folder) / filename).read_bytes()
            digest = digests[filename] = hashlib.sha256(data).hexdigest()[:10]
        return url_for("static", filename=filename, v=digest)

    def minutes(value: int) -> str:
        """'45 min' or '1 h 30 min'."""
        hours, rest = divmod(int(value), 60)
        if not hours:
            return ngettext("%(num)d min", "%(num)d min", rest)
        if not rest:
            return ngettext("%(num)d h", "%(num)d h", hours)
        return f"{hours} h {rest} min"

    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.filters["minutes"] = minutes
