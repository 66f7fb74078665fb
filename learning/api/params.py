"""The query parameters every API list shares, read strictly: bad ones are a 400.

``ApiError`` carries the status, a stable error code and a message; the views turn it
into the JSON error response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from learning.catalogue.models import Course
from learning.core.inputs import ascii_int
from learning.extensions import db

PER_PAGE, MAX_PER_PAGE = 50, 200
CERTIFICATE_STATUSES = ("valid", "expired", "revoked")


class ApiError(Exception):
    """A request the API refuses: HTTP status, a stable error code and a message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


@dataclass(frozen=True)
class ListParams:
    """Pagination and change filter common to every list."""

    after_id: int
    per_page: int
    updated_since: datetime | None


def parse_list_params(args: Mapping[str, str]) -> ListParams:
    """Read ``cursor``, ``per_page`` and ``updated_since``, refusing anything malformed."""
    cursor = ascii_int(args.get("cursor", "0") or "0")
    if cursor is None:
        raise ApiError(400, "invalid_parameter",
                       "cursor must be the value given in a previous response's next link.")
    per_page = ascii_int(args.get("per_page", str(PER_PAGE)), minimum=1, maximum=MAX_PER_PAGE)
    if per_page is None:
        raise ApiError(400, "invalid_parameter",
                       f"per_page must be a whole number from 1 to {MAX_PER_PAGE}.")
    since = args.get("updated_since")
    return ListParams(cursor, per_page, parse_timestamp(since) if since else None)


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 date or date-time as naive UTC (without an offset, UTC is assumed)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        hint = " (encode '+' in the offset as %2B)" if " " in value else ""
        raise ApiError(400, "invalid_parameter",
                       f"updated_since must be an ISO-8601 date or date-time, such as "
                       f"2026-01-31T08:00:00Z{hint}.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def parse_status(value: str | None) -> str | None:
    """A certificate status filter, if given."""
    if value and value not in CERTIFICATE_STATUSES:
        raise ApiError(400, "invalid_parameter",
                       f"status must be one of {', '.join(CERTIFICATE_STATUSES)}.")
    return value or None


def course_id_for(slug: str | None) -> int | None:
    """The id of a course filter (courses are public, so an unknown one is named)."""
    if not slug:
        return None
    course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == slug))
    if course_id is None:
        raise ApiError(400, "unknown_course", f"No course has the slug '{slug}'.")
    return course_id
