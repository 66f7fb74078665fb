"""Real Chromium at 360 px: a manager opens the dashboard; its SVG charts fit and break no CSP."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.agency.service import create_assignment
from learning.catalogue.models import Course
from learning.extensions import db
from learning.timeutil import utcnow
from tests.browser import chromium
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).parent.parent / "docs" / "screenshots"


def test_manager_dashboard_at_360px(app, synced, live_server, make_user, make_unit, agency):
    north = make_unit(agency, "North Post")
    manager = make_user("manager", agency=agency)
    for n in range(3):
        make_user("officer", agency=agency, unit=north, name=f"North {n}")
    course = db.session.scalar(sa.select(Course))
    create_assignment(manager, course.id, utcnow().date() + timedelta(days=20), "none", None,
                      [north.id], [])
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 360, "height": 740})
        page = context.new_page()
        errors = []
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" else None)
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(manager.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        page.goto(f"{live_server}/agency/")
        page.get_by_role("link", name="Dashboard").click()
        page.wait_for_url("**/agency/dashboard")
        charts = page.get_by_role("img")
        assert charts.count() == 3
        assert page.get_by_role("img", name="Share of officers compliant in each unit") \
            .is_visible()
        box = charts.first.bounding_box()
        assert 300 <= box["width"] <= 360
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert page.get_by_role("cell", name="0 %").first.is_visible()
        assert errors == []  # no CSP violation from the inline SVG
        if os.environ.get("WAYMARK_SCREENSHOTS"):  # refresh docs/screenshots/ on demand
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "dashboard-360.png"))
            page.set_viewport_size({"width": 1280, "height": 900})
            page.screenshot(path=str(SHOTS / "dashboard-1280.png"))
        context.close()
