"""/author/: trainers see every problem the strict check reports, and previews."""

import shutil

import pytest

from tests.conftest import FIXTURE_CONTENT


@pytest.fixture
def content_dirs(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    return root / "courses", root / "quizzes"


def test_health_lists_problems_and_publication_state(client, synced, content_dirs, make_user,
                                                     login_as):
    login_as(make_user("trainer"))
    html = client.get("/author/").get_data(as_text=True)
    assert "No problems" in html and "Published as version 1; the files match it." in html

    lesson = content_dirs[0] / "field-basics/wrap-up.md"
    lesson.write_text(lesson.read_text().replace("estimated_minutes: 3", "estimated_minutes: x")
                      + "\n[gone](missing.md)\n")
    html = client.get("/author/").get_data(as_text=True)
    assert "courses/field-basics/wrap-up.md:3</code> <strong>error</strong>: " \
           "&#39;estimated_minutes&#39; must be a whole number" in html
    assert "courses/field-basics/wrap-up.md:9</code>" in html
    assert "The files have 2 problems." in html


def test_preview_renders_unpublished_changes(client, synced, content_dirs, make_user, login_as):
    login_as(make_user("trainer"))
    lesson = content_dirs[0] / "field-basics/first-steps.md"
    lesson.write_text(lesson.read_text() + "\n!!! practice \"Draft tip\"\n    Not yet live.\n"
                      "\n<script>alert(1)</script>\n")
    html = client.get("/author/preview/field-basics/first-steps/").get_data(as_text=True)
    assert '<div class="admonition practice">' in html and "Not yet live." in html
    assert "<script>alert" not in html
    assert "Version 2 is" not in html
    officer_view = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    assert "Not yet live." not in officer_view  # officers see only what is published
