"""Issue 14: an officer who reads Waymark in Arabic, right to left, on a 360 px phone.

They choose Arabic on their account page, read a lesson, and take the final through the
confirmation step, in real Chromium; every page is right to left, fits the screen and has
no WCAG 2.2 A/AA violation under axe. Set WAYMARK_SCREENSHOTS=1 to refresh the README's
screenshot.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from learning.accounts.models import User
from learning.assessments.models import Attempt
from learning.config import PROJECT_ROOT
from learning.extensions import db
from tests.test_journeys_browser import (  # noqa: F401  (fixtures)
    answer_everything,
    browser,
    check_page,
    demo,
    open_page,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.browser
ARABIC = Path(PROJECT_ROOT) / "translations" / "ar" / "LC_MESSAGES" / "messages.po"


@pytest.fixture
def app_config(app_config, tmp_path):
    """The shipped Arabic catalogue, compiled here (the suite may run without `make`)."""
    folder = tmp_path / "translations" / "ar" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(ARABIC, folder / "messages.po")
    with open(ARABIC, "rb") as source, open(folder / "messages.mo", "wb") as target:
        write_mo(target, read_po(source))
    return dict(app_config, TRANSLATIONS_DIR=str(tmp_path / "translations"),
                BABEL_TRANSLATION_DIRECTORIES=str(tmp_path / "translations"))


def is_right_to_left(page) -> bool:
    return page.evaluate("[document.documentElement.lang, document.documentElement.dir, "
                         "getComputedStyle(document.body).direction]") == ["ar", "rtl", "rtl"]


def test_an_arabic_reader_takes_a_lesson_and_the_final_right_to_left(demo, open_page):  # noqa: F811
    page, errors = open_page(360)
    sign_in(page, demo, "officer@example.org")
    page.wait_for_url("**/training/")
    page.goto(f"{demo}/account/")
    page.get_by_label("Language of Waymark for you").select_option("ar")
    with page.expect_navigation():  # the same address again: wait for the new page itself
        page.locator("form[action='/language'] button").first.click()
    assert is_right_to_left(page)
    expect(page.locator("h1")).to_have_text("حسابك")
    check_page(page, 360)

    page.goto(f"{demo}/courses/field-basics/first-steps/")
    assert is_right_to_left(page)
    check_page(page, 360)
    screenshot(page, 360, "officer-arabic-lesson-360")
    page.locator(".complete-and-continue button").click()
    page.wait_for_url("**/second-steps/")

    page.goto(f"{demo}/courses/field-basics/assessments/final/")
    assert is_right_to_left(page)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/attempts/*/")
    assert is_right_to_left(page)
    check_page(page, 360)
    officer = db.session.scalar(sa.select(User).where(User.email == "officer@example.org"))
    db.session.expire_all()
    attempt = db.session.scalar(sa.select(Attempt).where(Attempt.user_id == officer.id,
                                                         Attempt.status == "open"))
    answer_everything(page, attempt)
    page.locator("button[formaction$='/review']").click()
    page.wait_for_url("**/review")
    assert is_right_to_left(page)
    check_page(page, 360)
    page.locator("form[action$='/submit'] button").first.click()
    page.wait_for_url("**/result")
    assert is_right_to_left(page)
    check_page(page, 360)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Attempt.passed).where(Attempt.id == attempt.id))
    assert errors == []


def test_an_arabic_reader_takes_the_arabic_course_and_final(app, demo, open_page):  # noqa: F811
    """The shipped course in Arabic: the lesson's own text and the final's questions, RTL."""
    from learning.catalogue.service import sync_catalogue

    report = sync_catalogue(Path(PROJECT_ROOT) / "courses", Path(PROJECT_ROOT) / "quizzes")
    assert report.ok, report.problems
    officer = db.session.scalar(sa.select(User).where(User.email == "officer@example.org"))
    officer.language = "ar"
    db.session.commit()
    page, errors = open_page(360)
    sign_in(page, demo, "officer@example.org")
    page.wait_for_url("**/training/")
    page.goto(f"{demo}/courses/recognising-trafficking/what-trafficking-is/")
    assert is_right_to_left(page)
    article = page.locator("article.lesson")
    assert article.get_attribute("lang") == "ar" and article.get_attribute("dir") == "rtl"
    expect(page.locator("h1")).to_contain_text("الاتجار")
    expect(page.locator("#sources")).to_be_visible()
    assert page.locator(".translation-note").count() == 0
    check_page(page, 360)
    screenshot(page, 360, "officer-arabic-course-360")

    page.goto(f"{demo}/courses/recognising-trafficking/assessments/final/")
    expect(page.locator("h1")).to_contain_text("التقييم")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/attempts/*/")
    db.session.expire_all()
    attempt = db.session.scalar(sa.select(Attempt).where(Attempt.user_id == officer.id,
                                                         Attempt.status == "open"))
    assert attempt.language == "ar"
    legends = page.locator("main fieldset legend").all_inner_texts()
    assert legends and all(any("\u0600" <= c <= "\u06ff" for c in text) for text in legends)
    check_page(page, 360)
    answer_everything(page, attempt)
    page.locator("button[formaction$='/review']").click()
    page.wait_for_url("**/review")
    page.locator("form[action$='/submit'] button").first.click()
    page.wait_for_url("**/result")
    assert is_right_to_left(page)
    check_page(page, 360)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Attempt.passed).where(Attempt.id == attempt.id))
    assert errors == []
