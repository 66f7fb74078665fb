"""Times as the viewer reads them: in their zone (own, else agency's, else UTC), with it.

The zone comes from the signed-in user and their agency, loaded with the user in one
query (see ``load_user``), so showing times costs no query. Calendar dates (due dates,
expiry dates) stay dates; only "today" is taken in the viewer's zone.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_datetime
from flask import Flask, has_request_context
from flask_babel import get_locale
from flask_login import current_user

from learning.timeutil import COMMON_ZONES, DEFAULT_ZONE, to_local, today_in, zone, zone_label

DATE_TIME = "d MMM y, HH:mm"
DATE_ONLY = "d MMM y"


def viewer_zone_name() -> str:
    """The signed-in user's zone name; UTC for visitors and outside requests."""
    if not has_request_context():
        return DEFAULT_ZONE
    user = current_user
    return user.time_zone_name if user and user.is_authenticated else DEFAULT_ZONE


def viewer_today() -> date:
    """Today in the viewer's zone: what "due today" and "overdue" mean to them."""
    return today_in(viewer_zone_name())


def format_local(value: datetime | None, zone_name: str, pattern: str = DATE_TIME,
                 locale=None) -> str:
    """'3 Dec 2026, 14:05 CET': a stored UTC time in a zone, named, in the locale's words."""
    if value is None:
        return ""
    local = to_local(value, zone_name)
    text = format_datetime(local, pattern, tzinfo=zone(zone_name), locale=locale or "en")
    return f"{text} {zone_label(local, zone_name)}" if pattern == DATE_TIME else text


def register(app: Flask) -> None:
    """Add the ``local_time`` and ``local_date`` filters and the zone globals to templates."""

    def local_time(value: datetime | None) -> str:
        """A stored UTC time in the viewer's zone, with the zone's name."""
        return format_local(value, viewer_zone_name(), DATE_TIME, get_locale())

    def local_date(value: datetime | None) -> str:
        """The day a stored UTC time falls on in the viewer's zone."""
        return format_local(value, viewer_zone_name(), DATE_ONLY, get_locale())

    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals["viewer_zone"] = viewer_zone_name
    app.jinja_env.globals["common_zones"] = COMMON_ZONES
