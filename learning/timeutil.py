"""Time helpers: one notion of "now", naive UTC, the same on SQLite and PostgreSQL.

Times are stored as naive UTC and shown in the viewer's time zone: their own, else their
agency's, else UTC (``zone_name_for``). Zones are IANA names checked against the system's
time zone database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_ZONE = "UTC"
MAX_ZONE_LENGTH = 64
# Offered first in the pickers (any other IANA name may be typed).
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
    "Europe/Rome", "Europe/Warsaw", "Europe/Athens", "Europe/Bucharest", "Europe/Kyiv",
    "Europe/Istanbul", "Europe/Moscow", "Africa/Casablanca", "Africa/Lagos", "Africa/Cairo",
    "Africa/Nairobi", "Africa/Johannesburg", "Asia/Beirut", "Asia/Amman", "Asia/Riyadh",
    "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Dhaka", "Asia/Bangkok",
    "Asia/Jakarta", "Asia/Manila", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney",
    "Pacific/Auckland", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
    "America/Bogota", "America/Mexico_City", "America/New_York", "America/Chicago",
    "America/Denver", "America/Los_Angeles",
)


def utcnow() -> datetime:
    """Current time in UTC without tzinfo, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: object) -> bool:
    """True for an IANA zone name this system knows (hostile input is simply False)."""
    return (isinstance(name, str) and 0 < len(name) <= MAX_ZONE_LENGTH
            and name in _known_zones())


def zone_name_for(user_zone: str | None, agency_zone: str | None) -> str:
    """The zone a person sees times in: their own, else their agency's, else UTC."""
    for name in (user_zone, agency_zone):
        if name and is_time_zone(name):
            return name
    return DEFAULT_ZONE


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for a known name; UTC for anything else."""
    return ZoneInfo(name if is_time_zone(name) else DEFAULT_ZONE)


def to_local(value: datetime, zone_name: str) -> datetime:
    """A stored naive-UTC (or aware) datetime as an aware datetime in the named zone."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone(zone_name))


def zone_label(local: datetime, zone_name: str) -> str:
    """The zone's abbreviation at that moment (CET, CEST, EST), else its IANA name."""
    abbreviation = local.tzname() or ""
    return abbreviation if abbreviation.isalpha() else zone_name


def today_in(zone_name: str, now: datetime | None = None) -> date:
    """The calendar day it is now in the named zone (what "due today" means to a person)."""
    return to_local(now or utcnow(), zone_name).date()
