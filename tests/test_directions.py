"""Dates and durations in the shipped catalogues, in both directions of writing."""

from __future__ import annotations

from datetime import date

import pytest
from flask import render_template_string
from flask_babel import force_locale


@pytest.mark.parametrize(("language", "day", "duration"), [
    ("en", "2027-01-02", "1 h 52 min"),
    ("fr", "2027-01-02", "1 h 52 min"),
    # isolated (not reordered by RTL) and joined (no line break at a hyphen)
    ("ar", "\u20662027\u2060-\u206001\u2060-\u206002\u2069", "1 ساعة و52 دقيقة"),
])
def test_dates_and_durations_read_right_in_every_direction(app, language, day, duration):
    with app.test_request_context(), force_locale(language):
        shown = render_template_string("{{ d|day }}|{{ m|minutes }}", d=date(2027, 1, 2), m=112)
    assert shown == f"{day}|{duration}"
