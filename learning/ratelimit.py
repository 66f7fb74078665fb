"""Per-client rate limits for the few public endpoints that need them.

Built on the ``limits`` library: counters live in memory, or in Redis when
``REDIS_URL`` is set so that every app server shares them. Only views that ask
pay for a check; other requests are untouched.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from learning.ops.redisconn import limits_storage

EXTENSION = "waymark_rate_limiter"


def init_app(app: Flask) -> None:
    """Create the app's limiter on its configured storage."""
    storage = limits_storage(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[EXTENSION] = FixedWindowRateLimiter(storage)


def allow(scope: str, limit: str, key: str | None = None) -> bool:
    """Count this request against ``limit`` (e.g. "30 per minute").

    Counted per client address, or per ``key`` when given (e.g. a user id).
    """
    limiter: FixedWindowRateLimiter = current_app.extensions[EXTENSION]
    return limiter.hit(parse(limit), scope, key or request.remote_addr or "unknown")
