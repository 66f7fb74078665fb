"""Real Chromium at 360 px: the demo manager invites officers and questions a past date."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from learning.accounts.cli import DEMO_PASSWORD, ensure_demo_accounts
from learning.agency.models import Assignment
from learning.agency.reminders_models import Notification
from learning.extensions import db
from tests.browser import chromium

pytestmark = pytest.mark.browser


def test_manager_invites_by_email_and_assigns_with_a_past_date(app, synced, live_server,
                                                               tmp_path):
    app.config["WTF_CSRF_ENABLED"] = True
    ensure_demo_accounts()
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 360, "height": 740})
        page = context.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill("manager@example.org")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/courses/")

        page.goto(f"{live_server}/agency/staff/")
        page.get_by_label("Invite Amina Diallo by e-mail").check()
        page.get_by_label("Invite Jonas Berg by e-mail").check()
        page.screenshot(path=str(tmp_path / "staff.png"))
        page.get_by_role("button", name="Send invitation e-mails").click()
        assert page.get_by_text("Invitation e-mails are on their way to Amina Diallo, "
                                "Jonas Berg.").is_visible()
        assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
            Notification.kind == "invitation")) == 2

        page.goto(f"{live_server}/agency/assignments/")
        months = page.locator("#every-months-field")
        assert months.is_hidden()  # the script hides what does not apply
        page.get_by_label("Repeat", exact=True).select_option("months")
        assert months.is_visible()
        page.get_by_label("Repeat", exact=True).select_option("none")
        past = (date.today() - timedelta(days=2)).isoformat()
        page.get_by_label("Due date").fill(past)
        page.get_by_label("Northern Airport Post").check()
        page.get_by_role("button", name="Assign", exact=True).click()
        assert page.get_by_text("is in the past").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(tmp_path / "past-due.png"))
        page.get_by_role("button", name="Assign anyway").click()
        assert page.get_by_text("The course is assigned.").is_visible()
        db.session.expire_all()
        assert [a.due_on.isoformat() for a in db.session.scalars(sa.select(Assignment))] == [
            past]
        assert errors == []
        context.close()
