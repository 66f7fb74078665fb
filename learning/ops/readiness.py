"""Is this app server ready for traffic? Database, Redis (if configured), migrations current.

Cheap enough for a load balancer to ask every few seconds: one ``SELECT`` for the
database revision, one ``PING`` to Redis; the migration head is read from the scripts
once per process. Answers name the failing part, never a DSN, host or password.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from learning.config import PROJECT_ROOT
from learning.extensions import db
from learning.ops import redisconn

MIGRATIONS = Path(PROJECT_ROOT) / "migrations"


def _scripts(directory: str) -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", directory)
    return ScriptDirectory.from_config(config)


@cache
def migration_heads(directory: str = str(MIGRATIONS)) -> frozenset[str]:
    """The revisions this code expects the database to be at (read once per process)."""
    return frozenset(_scripts(directory).get_heads())


@cache
def known_revisions(directory: str = str(MIGRATIONS)) -> frozenset[str]:
    """Every revision this code has a migration for (read once per process)."""
    return frozenset(script.revision for script in _scripts(directory).walk_revisions())


def database_revisions() -> frozenset[str] | None:
    """The revisions recorded in the database (None when it has no ``alembic_version``)."""
    try:
        rows = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        return frozenset(rows)
    except SQLAlchemyError:
        db.session.rollback()
        return None


def check_database() -> str:
    """"ok" when the database answers a query, else "unreachable"."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "unreachable"
    return "ok"


def check_redis() -> str:
    """"ok", "not configured" (no REDIS_URL: everything stays on this machine) or
    "unreachable"."""
    client = redisconn.client()
    if client is None:
        return "not configured"
    try:
        client.ping()
    except redisconn.redis.RedisError:
        return "unreachable"
    return "ok"


def check_migrations() -> str:
    """"ok" at the code's head; "pending" when ``flask db upgrade`` is still to run;
    "unknown revision" when the database is newer than this code."""
    found = database_revisions()
    if found == migration_heads():
        return "ok"
    if not found or found <= known_revisions():
        return "pending"
    return "unknown revision"


def readiness() -> tuple[bool, dict[str, str]]:
    """Whether to send traffic here, and the state of each part."""
    parts = {"database": check_database()}
    parts["redis"] = check_redis()
    parts["migrations"] = check_migrations() if parts["database"] == "ok" else "unknown"
    ready = parts["database"] == "ok" and parts["redis"] in ("ok", "not configured") \
        and parts["migrations"] == "ok"
    return ready, parts
