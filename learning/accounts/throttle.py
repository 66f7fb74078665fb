"""Failed sign-ins counted per account and per client address, shared by every app server.

Counters live in the database (table ``login_throttle``, fixed windows aligned to the
clock), or in Redis through the ``limits`` library when ``REDIS_URL`` is set. Unknown
emails are counted exactly like known ones, so the answer never tells them apart.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from limits import RateLimitItemPerSecond
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.dialects import postgresql, sqlite

from learning.accounts.auth_models import LoginThrottle
from learning.accounts.service import normalise_email
from learning.extensions import db
from learning.ops.redisconn import limits_storage
from learning.timeutil import utcnow

EXTENSION = "waymark_login_throttle"
EPOCH = datetime(1970, 1, 1)


def email_digest(email: str) -> str:
    """A keyed hash of a typed email: counts and audits attempts without storing what was typed."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def limits_for(email: str, address: str | None) -> list[tuple[str, int]]:
    """The counters a sign-in attempt is held against: its account and its client address."""
    config = current_app.config
    return [(f"account:{email_digest(email)}", config["LOGIN_FAILURES_PER_ACCOUNT"]),
            (f"address:{(address or 'unknown')[:90]}", config["LOGIN_FAILURES_PER_ADDRESS"])]


def _window() -> int:
    return int(current_app.config["LOGIN_THROTTLE_SECONDS"])


def _limiter() -> FixedWindowRateLimiter | None:
    """The ``limits`` limiter when counters are kept outside the database, else None."""
    uri = current_app.config["LOGIN_THROTTLE_STORAGE"]
    if uri == "database":
        return None
    limiter = current_app.extensions.get(EXTENSION)
    if limiter is None:
        limiter = current_app.extensions[EXTENSION] = FixedWindowRateLimiter(
            limits_storage(uri))
    return limiter


def _window_start(now: datetime, seconds: int) -> datetime:
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=elapsed - elapsed % seconds)


def retry_after(keys: list[tuple[str, int]], now: datetime | None = None) -> int | None:
    """Seconds to wait when any counter has reached its limit, else None (not throttled)."""
    now, seconds = now or utcnow(), _window()
    limiter = _limiter()
    if limiter is not None:
        waits = []
        for key, limit in keys:
            item = RateLimitItemPerSecond(limit, seconds)
            if not limiter.test(item, "login", key):
                reset_at = limiter.get_window_stats(item, "login", key).reset_time
                waits.append(reset_at - time.time())
        return max(1, math.ceil(max(waits))) if waits else None
    start = _window_start(now, seconds)
    limits = dict(keys)
    rows = db.session.execute(sa.select(LoginThrottle.key, LoginThrottle.failures).where(
        LoginThrottle.key.in_(limits), LoginThrottle.window_start == start)).all()
    if any(failures >= limits[key] for key, failures in rows):
        return max(1, math.ceil((start + timedelta(seconds=seconds) - now).total_seconds()))
    return None


def record_failure(keys: list[tuple[str, int]], now: datetime | None = None) -> None:
    """Count one failed attempt against every counter (the caller commits)."""
    now, seconds = now or utcnow(), _window()
    limiter = _limiter()
    if limiter is not None:
        for key, limit in keys:
            limiter.hit(RateLimitItemPerSecond(limit, seconds), "login", key)
        return
    start = _window_start(now, seconds)
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    for key, _limit in keys:
        statement = dialect.insert(LoginThrottle).values(key=key, window_start=start, failures=1)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"failures": LoginThrottle.failures + 1}))
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.window_start < start))


def clear_account(email: str) -> None:
    """Forget an account's failures after it signs in (its address keeps its count)."""
    key, limit = limits_for(email, None)[0]
    limiter = _limiter()
    if limiter is not None:
        limiter.clear(RateLimitItemPerSecond(limit, _window()), "login", key)
        return
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == key))
