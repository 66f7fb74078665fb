"""Time helpers: one notion of "now", naive UTC, the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current time in UTC without tzinfo, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)
