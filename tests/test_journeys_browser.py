"""Issue 11's journeys in real Chromium at 360 and 1280 px, through the real pages only.

An officer goes from signing in to the certificate and its public check; a manager from a
staff import to invitations, an assignment, the dashboard and both exports; an admin
creates a unit and a manager. Set WAYMARK_SCREENSHOTS=1 to refresh docs/screenshots/.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from learning.accounts.cli import DEMO_PASSWORD, ensure_demo_accounts, ensure_demo_assignment
from learning.accounts.models import Unit, User
from learning.agency.models import Assignment
from learning.agency.reminders_models import Notification
from learning.assessments.models import Attempt
from learning.certificates.models import Certificate
from learning.extensions import db
from learning.timeutil import utcnow
from tests.browser import chromium
from tests.test_accessibility import AXE, RUN_AXE, TAGS
from tests.test_assessments import correct_form

pytestmark = pytest.mark.browser
WIDTHS = (360, 1280)
SHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
LESSONS = ("first-steps", "second-steps", "hard-topics", "wrap-up")


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def demo(app, synced, live_server):
    """The demo agency and accounts with the demo assignment, and CSRF on as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    ensure_demo_accounts()
    ensure_demo_assignment(utcnow().date())
    return live_server


@pytest.fixture
def open_page(browser):
    """A new page at a width; collects console errors (CSP violations, script errors)."""
    contexts = []

    def make(width: int) -> tuple[Page, list[str]]:
        context = browser.new_context(viewport={"width": width, "height": 800},
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return page, errors

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Page, base: str, email: str) -> None:
    """Through the landing page's link and the sign-in form, as a visitor would."""
    page.goto(f"{base}/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def check_page(page: Page, width: int) -> None:
    """Fits the viewport and has no WCAG 2.2 A/AA violation under axe."""
    wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w && !e.closest('.table-scroll'))
        .map(e => `${e.tagName}.${e.className}#${e.id}`).slice(0, 8)""", width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (page.url, wide)
    if page.evaluate("typeof axe") == "undefined":
        page.evaluate(AXE)  # evaluated by the test, so the page's CSP is not loosened
    assert page.evaluate(RUN_AXE, TAGS) == [], page.url


def screenshot(page: Page, width: int, name: str) -> None:
    """Refresh docs/screenshots/<name>.png (viewport only, so it stays small) on demand."""
    if width == 360 and os.environ.get("WAYMARK_SCREENSHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / f"{name}.png"))


def answer_everything(page: Page, attempt: Attempt) -> None:
    """Fill the attempt's form with the key, read from the bank the attempt drew from."""
    for name, value in correct_form(attempt).items():
        if not name.startswith("q-"):
            continue
        for one in value if isinstance(value, list) else [value]:
            field = page.locator(f'[name="{name}"]')
            kind = field.first.evaluate("e => e.tagName + ':' + (e.type || '')")
            if kind.startswith("SELECT"):
                field.select_option(one)
            elif kind in ("INPUT:radio", "INPUT:checkbox"):
                page.locator(f'[name="{name}"][value="{one}"]').check()
            else:
                field.fill(one)


@pytest.mark.parametrize("width", WIDTHS)
def test_officer_from_sign_in_to_a_verified_certificate(demo, open_page, width):
    page, errors = open_page(width)
    sign_in(page, demo, "officer@example.org")
    page.wait_for_url("**/training/")
    due = utcnow().date() + timedelta(days=30)
    expect(page.get_by_text(f"due {due.isoformat()}, in 30 days")).to_be_visible()
    check_page(page, width)
    screenshot(page, width, "officer-my-training-360")

    page.get_by_role("link", name=re.compile(r"^Start\W+Field basics$")).click()
    for slug, following in zip(LESSONS, LESSONS[1:], strict=False):
        page.wait_for_url(f"**/{slug}/")
        page.get_by_role("button", name="Mark complete and continue").click()
        page.wait_for_url(f"**/{following}/")
    page.get_by_role("button", name=re.compile(r"^Mark complete")).click()

    page.get_by_role("link", name="Demo Officer").click()  # their account page
    page.get_by_label("Time zone").fill("Europe/Paris")
    check_page(page, width)
    page.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_text("Your time zone is saved.")).to_be_visible()

    page.goto(f"{demo}/courses/field-basics/")
    page.get_by_role("link", name="Final assessment").click()
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/attempts/*/")
    officer = db.session.scalar(sa.select(User).where(User.email == "officer@example.org"))
    db.session.expire_all()
    attempt = db.session.scalar(sa.select(Attempt).where(Attempt.user_id == officer.id,
                                                         Attempt.status == "open"))
    answer_everything(page, attempt)
    page.get_by_role("button", name="Review and submit").click()
    page.wait_for_url("**/review")
    expect(page.get_by_role("heading", name="Review and submit")).to_be_visible()
    expect(page.locator(".deadline")).to_contain_text(re.compile(r" CES?T;"))  # Paris time
    check_page(page, width)
    page.get_by_role("button", name="Submit for grading").click()
    page.wait_for_url("**/result")
    expect(page.get_by_role("heading", name="You have completed the course")).to_be_visible()

    page.get_by_role("link", name="All your certificates").click()
    page.wait_for_url("**/certificates/")
    code = page.locator("code").first.inner_text()
    assert re.fullmatch(r"[0-9a-f]{32}", code)
    assert db.session.scalar(sa.select(Certificate.code)) == code
    check_page(page, width)
    screenshot(page, width, "officer-certificates-360")

    visitor, visitor_errors = open_page(width)  # anyone holding the printed code
    visitor.goto(f"{demo}/verify/")
    visitor.get_by_label("Certificate code").fill(code.upper())
    visitor.get_by_role("button", name="Check").click()
    visitor.wait_for_url(f"**/verify/{code}")
    expect(visitor.get_by_text("valid", exact=False).first).to_be_visible()
    assert "Valid" in visitor.locator("main").inner_text()
    check_page(visitor, width)
    assert errors == [] and visitor_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_manager_from_staff_import_to_both_exports(demo, open_page, width, tmp_path):
    page, errors = open_page(width)
    sign_in(page, demo, "manager@example.org")
    page.goto(f"{demo}/agency/")
    page.get_by_role("link", name="Staff").click()
    page.get_by_role("link", name="Import officers from CSV").click()
    staff = tmp_path / "staff.csv"
    staff.write_text("email,name,unit\nlina.haddad@example.org,Lina Haddad,East Ferry Post\n"
                     "omar.said@example.org,Omar Said,East Ferry Post\n", encoding="utf-8")
    page.get_by_label("Staff file (CSV, UTF-8, at most 5 MB)").set_input_files(str(staff))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("2 officers to add")).to_be_visible()
    page.get_by_label(re.compile("Create the unit East Ferry Post")).check()
    check_page(page, width)
    screenshot(page, width, "manager-import-preview-360")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/agency/staff/")

    page.get_by_label("Invite Lina Haddad by e-mail").check()
    page.get_by_label("Invite Omar Said by e-mail").check()
    page.get_by_role("button", name="Send invitation e-mails").click()
    expect(page.get_by_text("Invitation e-mails are on their way to")).to_be_visible()
    assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.kind == "invitation")) == 2

    page.goto(f"{demo}/agency/")
    page.get_by_role("link", name="Assignments").click()
    due = date.today() + timedelta(days=45)
    page.get_by_label("Due date").fill(due.isoformat())
    page.get_by_label("East Ferry Post").check()
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text("The course is assigned.")).to_be_visible()
    db.session.expire_all()
    assert due in {a.due_on for a in db.session.scalars(sa.select(Assignment))}

    page.goto(f"{demo}/agency/")
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url("**/agency/dashboard")
    assert page.get_by_role("img").count() == 3
    check_page(page, width)
    screenshot(page, width, "manager-dashboard-360")

    page.goto(f"{demo}/agency/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Officer", "Email", "Unit", "Course", "State"]
    lina = next(row for row in rows if row[1] == "lina.haddad@example.org")
    assert lina[2] == "East Ferry Post" and lina[4] == "Not started"
    assert lina[5] == due.isoformat()
    assert "not_started" not in raw.decode("utf-8-sig")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:5] == ("Officer", "Email", "Unit", "Course", "State")
    lina = next(row for row in values if row[1] == "lina.haddad@example.org")
    assert lina[4] == "Not started"
    assert lina[5].date() == due  # a real date cell, not text
    assert errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_creates_a_unit_and_a_manager(demo, open_page, width):
    page, errors = open_page(width)
    sign_in(page, demo, "admin@example.org")
    page.goto(f"{demo}/admin/")
    page.get_by_role("link", name="Agencies and units").click()
    page.get_by_role("link", name="Demo Border Agency").click()
    page.get_by_label("Unit name").fill("Southern Rail Station")
    page.get_by_label("Kind").select_option("station")
    page.get_by_role("button", name="Add unit").click()
    expect(page.get_by_text("Southern Rail Station")).to_be_visible()
    check_page(page, width)
    screenshot(page, width, "admin-agency-360")
    unit = db.session.scalar(sa.select(Unit).where(Unit.name == "Southern Rail Station"))
    assert unit is not None and unit.kind == "station"

    page.goto(f"{demo}/admin/")
    page.get_by_role("link", name="Managers, trainers and admins").click()
    page.get_by_role("link", name="Create an account").click()
    email = "station.manager@example.org"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name as printed on certificates").fill("Station Manager")
    page.get_by_label("Role").select_option("manager")
    page.get_by_label(re.compile("^Agency")).select_option(label="Demo Border Agency")
    page.get_by_label(re.compile("^Unit")).select_option(
        label="Demo Border Agency: Southern Rail Station")
    check_page(page, width)
    screenshot(page, width, "admin-new-account-360")
    page.get_by_role("button", name="Create account and e-mail a set-password link").click()
    expect(page.get_by_text("The account is created")).to_be_visible()
    db.session.expire_all()
    manager = db.session.scalar(sa.select(User).where(User.email == email))
    assert manager.role == "manager" and manager.unit_id == unit.id
    assert manager.password_hash is None  # they choose it through the e-mailed link
    assert errors == []
