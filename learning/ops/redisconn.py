"""Redis, when ``REDIS_URL`` is set: one client per app, short timeouts, 503 when away.

Rate limits and login throttles count in Redis so that every app server shares them.
When Redis does not answer, a request that needs a count gets a clear 503 with
Retry-After (the limits fail closed: an outage never lifts the brute-force guard);
every other page keeps working.
"""

from __future__ import annotations

import redis
from flask import Flask, current_app, render_template, request
from flask import jsonify as _jsonify
from flask_babel import gettext as _
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string

from learning.extensions import db

EXTENSION = "waymark_redis"
TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}
RETRY_AFTER_SECONDS = 30


def limits_storage(uri: str) -> Storage:
    """A ``limits`` storage for ``uri``; Redis with short timeouts and wrapped errors."""
    if uri.startswith(("redis://", "rediss://", "unix://")):
        return storage_from_string(uri, wrap_exceptions=True, **TIMEOUTS)
    return storage_from_string(uri)


def client(app: Flask | None = None) -> redis.Redis | None:
    """The app's Redis client, or None when ``REDIS_URL`` is not set."""
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    existing = app.extensions.get(EXTENSION)
    if existing is None:
        existing = app.extensions[EXTENSION] = redis.Redis.from_url(url, **TIMEOUTS)
    return existing


def redis_unavailable(_error: Exception):
    """503 with Retry-After: the shared counters cannot be read, so nothing was done."""
    db.session.rollback()
    current_app.logger.error("Redis did not answer: %s %s", request.method, request.path)
    if request.path.startswith("/api/"):
        response = _jsonify(error="service_unavailable")
    else:
        response = render_template(
            "errors/error.html", status=503, title=_("Temporarily unavailable"),
            message=_("A shared service is not answering. Nothing was changed; please try "
                      "again in a minute."), detail=None)
    return response, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def init_app(app: Flask) -> None:
    """A Redis outage met while counting becomes a 503 page, never a 500."""
    app.register_error_handler(StorageError, redis_unavailable)
    app.register_error_handler(redis.RedisError, redis_unavailable)
