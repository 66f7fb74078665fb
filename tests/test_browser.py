"""Real Chromium: the demo officer signs in, opens a lesson and marks it complete."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from learning.accounts.cli import DEMO_PASSWORD, ensure_demo_accounts
from learning.assessments.models import Attempt
from learning.extensions import db
from learning.progress.models import LessonProgress
from tests.browser import chromium

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def test_officer_reads_a_lesson_and_marks_it_complete(app, synced, live_server, browser):
    app.config["WTF_CSRF_ENABLED"] = True
    ensure_demo_accounts()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)

    page.goto(f"{live_server}/courses/field-basics/second-steps/")
    assert "/login" in page.url
    page.get_by_label("Email").fill("officer@example.org")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/courses/field-basics/second-steps/")

    assert page.get_by_role("heading", level=1).inner_text() == "Second steps"
    assert page.get_by_text("Lesson 2 of 4").is_visible()
    # Readable at 360 px: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The lesson's wide table scrolls inside its own labelled region, reachable by keyboard.
    region = page.locator(".table-scroll").first
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label")
    assert page.get_by_text("Wide tables scroll sideways").is_visible()

    page.get_by_role("button", name="Mark complete and continue").click()
    page.wait_for_url("**/courses/field-basics/hard-topics/")
    assert page.get_by_text("Lesson marked as complete.").is_visible()
    assert page.get_by_role("heading", name="Content warning").is_visible()

    page.goto(f"{live_server}/courses/field-basics/")
    assert page.get_by_text("1 of 4 lessons").is_visible()
    assert errors == []  # no CSP violations or script errors
    rows = db.session.execute(sa.select(LessonProgress.lesson_slug)).scalars().all()
    assert rows == ["second-steps"]
    context.close()


def test_officer_home_journey_at_360(app, synced, live_server, browser, agency, make_user):
    from datetime import timedelta

    from learning.agency.service import create_assignment
    from learning.catalogue.models import Course
    from learning.timeutil import utcnow
    app.config["WTF_CSRF_ENABLED"] = True
    officer = make_user("officer", email="home@example.test", agency=agency)
    manager = make_user("manager", agency=agency)
    course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == "field-basics"))
    due = utcnow().date() + timedelta(days=10)
    create_assignment(manager, course_id, due, "none", None, [], [officer.email])
    db.session.commit()
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{live_server}/")
    assert page.get_by_role("heading", name="Check a certificate").is_visible()
    page.get_by_label("Certificate code").fill("0" * 32)
    page.get_by_role("button", name="Check").click()
    page.wait_for_url(f"**/verify/{'0' * 32}")
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill(officer.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/training/")
    assert page.get_by_role("heading", name="My training").is_visible()
    assert page.get_by_text(f"due {due.isoformat()}, in 10 days").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name=re.compile(r"^Start\W+Field basics$")).click()
    page.wait_for_url("**/first-steps/")
    page.get_by_role("button", name="Mark complete and continue").click()
    page.wait_for_url("**/second-steps/")
    assert db.session.scalars(sa.select(LessonProgress.lesson_slug)).all() == ["first-steps"]
    context.close()


def test_skip_link_is_first_and_visible_on_focus(app, synced, live_server, browser):
    page = browser.new_page()
    page.goto(f"{live_server}/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    box = page.evaluate("document.activeElement.getBoundingClientRect().left")
    assert box >= 0
    page.close()


def test_assessment_answers_survive_a_reload(app, synced, live_server, browser, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    officer = make_user("officer", email="reader@example.test")
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(officer.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/courses/field-basics/assessments/final/")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/attempts/*/")

    status = page.locator("#save-status")
    count = page.locator("#answered-count")
    expect(count).to_have_text(re.compile(r"^0 of \d+ questions answered$"))
    page.locator("#question-smuggling-ends").get_by_label("True").check()
    expect(status).to_have_text(re.compile(r"^Saved at"))
    expect(count).to_have_text(re.compile(r"^1 of \d+ questions answered$"))  # no reload
    nav = page.locator('.question-nav a[href="#question-smuggling-ends"]')
    expect(nav).to_have_class("answered")
    expect(nav).to_contain_text("(answered)")
    with page.expect_response(lambda r: r.url.endswith("/save")) as saved:
        page.locator("#question-recovery-days input[type=text]").fill("30")  # sent after a pause
    assert saved.value.json() == {"saved": ["recovery-days"], "stale": []}
    expect(status).to_have_text(re.compile(r"^Saved at"))

    page.reload()
    assert page.locator("#question-smuggling-ends").get_by_label("True").is_checked()
    assert page.locator("#question-recovery-days input[type=text]").input_value() == "30"

    page.get_by_role("button", name="Review and submit").click()
    page.wait_for_url("**/review")
    page.get_by_role("button", name="Submit for grading").click()
    page.wait_for_url("**/result")
    assert page.get_by_role("heading", name="Your result").is_visible()
    attempt = db.session.scalars(sa.select(Attempt)).one()
    assert attempt.status == "submitted"
    assert attempt.results["smuggling-ends"] == 1 and attempt.results["recovery-days"] == 1
    page.close()


def test_autosave_after_signing_out_elsewhere_says_so_and_stops(app, synced, live_server,
                                                                browser, make_user):
    """Signed out in another tab: the attempt page says why saving stopped, in French too,
    and does not retry for ever as if the connection were down."""
    app.config["WTF_CSRF_ENABLED"] = True
    officer = make_user("officer", email="reader@example.test")
    officer.language = "fr"
    db.session.commit()
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)  # a stuck step fails the test rather than the run
    page.goto(f"{live_server}/login")
    page.locator("input[name=email]").fill(officer.email)
    page.locator("input[name=password]").fill("correct-horse-battery")
    page.locator("main form [type=submit]").first.click()
    page.goto(f"{live_server}/courses/field-basics/assessments/final/")
    page.locator("main form button.button").first.click()
    page.wait_for_url("**/attempts/*/")
    saves = []
    page.on("response", lambda r: saves.append(r.status) if r.url.endswith("/save") else None)
    page.locator("#question-smuggling-ends input[value=true]").check()
    status = page.locator("#save-status")
    expect(status).not_to_have_text(re.compile(r"^(Saving|Saved at)"))  # French
    expect(status).to_have_text(re.compile(r"\d\d:\d\d"))
    # The officer signs out elsewhere (the same cookies: another tab of this browser).
    token = page.locator("#attempt-form input[name=csrf_token]").input_value()
    signed_out = context.request.post(f"{live_server}/logout", form={"csrf_token": token},
                                      max_redirects=0)
    assert signed_out.status == 302
    page.locator("#question-smuggling-ends input[value=false]").check()
    expect(status).to_contain_text("déconnecté")
    page.wait_for_timeout(2500)  # a retry would have come after 1 s
    assert saves == [200, 400]
    context.close()
