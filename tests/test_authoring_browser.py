"""Real Chromium at 360 px: a trainer edits a lesson, sees the preview and an inline error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from learning.author.drafts import open_draft
from learning.extensions import db
from tests.authoring import LESSON, draft, make_owner
from tests.browser import chromium
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def shoot(page, name: str, **options) -> None:
    """Refresh docs/screenshots/<name> on demand (WAYMARK_SCREENSHOTS=1), as the other
    browser tests do: a run of the suite leaves the work tree as it was."""
    if os.environ.get("WAYMARK_SCREENSHOTS"):
        page.screenshot(path=str(SCREENSHOTS / name), **options)


def test_trainer_edits_a_lesson_at_360(app, synced, live_server, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    trainer = make_user("trainer", email="writer@example.test")
    make_owner(trainer)
    opened, _created = open_draft("field-basics", trainer)
    db.session.commit()
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 360, "height": 740})
        page = context.new_page()
        errors = []
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" else None)
        page.goto(f"{live_server}/author/drafts/{opened.id}/?file={LESSON}")
        page.get_by_label("Email").fill(trainer.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/author/drafts/{opened.id}/**")
        box = page.locator("textarea#text")
        text = box.input_value()
        box.fill(text.replace("## Start here", "## Begin with the traveller")
                 .replace("estimated_minutes: 5", "estimated_minutes: lots"))
        page.locator("#preview h2", has_text="Begin with the traveller").wait_for()
        page.locator("#problems li.problem-error", has_text="line 3").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shoot(page, "author-editor-360.png", full_page=True)
        page.locator("#save-status", has_text="Saved").wait_for(timeout=10_000)  # autosave
        assert "estimated_minutes: lots" in draft(opened.id).files[LESSON]
        page.set_viewport_size({"width": 1280, "height": 900})
        page.evaluate("window.scrollTo(0, 0)")
        shoot(page, "author-editor-1280.png")
        assert errors == []  # no CSP violations or script errors
        context.close()
