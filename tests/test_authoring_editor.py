"""Writing in the browser: edit and publish each kind of file, new courses, inline checks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from learning.audit.models import AuditEntry
from learning.catalogue.models import Course, CourseVersion
from learning.extensions import db
from tests.authoring import COURSE, LESSON, draft, editor_fields, make_owner, open_draft, save


@pytest.fixture
def trainer(app_ctx, make_user, login_as, synced):
    user = make_user("trainer")
    make_owner(user)
    login_as(user)
    return user


def _current() -> CourseVersion:
    db.session.expire_all()
    course = db.session.scalar(sa.select(Course).where(Course.slug == COURSE))
    return db.session.get(CourseVersion, course.current_version_id)


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.action.like("author.%")).order_by(AuditEntry.id)))


EDITS = [
    (LESSON, "The first lesson.", "The first lesson, edited in the browser."),
    (f"quizzes/{COURSE}/check-bank.yaml", "Whom do you ask about the journey?",
     "Whom do you ask first about the journey?"),
    (f"quizzes/{COURSE}/check-basics.yaml", "Check your understanding", "Check what you know"),
    (f"courses/{COURSE}/course.md", "An overview that links", "A new overview that links"),
]


@pytest.mark.parametrize(("path", "old", "new"), EDITS, ids=["lesson", "bank", "assessment",
                                                             "course"])
def test_edit_and_publish_each_kind_of_file(client, trainer, path, old, new):
    before = _current()
    draft_id = open_draft(client)
    fields = editor_fields(client, draft_id, path)
    assert old in fields["text"]
    response = save(client, draft_id, path, fields["text"].replace(old, new), fields)
    assert response.status_code == 302
    page = client.get(f"/author/drafts/{draft_id}/publish")
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    form = {"confirm": "yes"}
    if path == LESSON:
        html = page.get_data(as_text=True)
        assert "edited in the browser" in html  # the diff
        assert 'name="significance-first-steps"' in html
        form["significance-first-steps"] = "editorial"
    response = client.post(f"/author/drafts/{draft_id}/publish", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    after = _current()
    assert after.number == before.number + 1
    assert new in after.files[path] and old not in after.files[path]
    assert after.origin == "browser"
    assert draft(draft_id).state == "published"
    assert _actions() == ["author.draft_created", "author.draft_saved",
                          "author.draft_published"]


def test_a_new_course_with_a_lesson_bank_and_assessment_publishes(client, trainer):
    response = client.post("/author/drafts/new", data={"slug": "document-checks",
                                                       "title": "Document checks"})
    assert response.status_code == 302
    draft_id = int(response.headers["Location"].split("/")[-2])
    for kind, name, title in (("lesson", "forged-visas", "Forged visas"),
                              ("bank", "visa-questions", ""), ("assessment", "visa-check", "")):
        response = client.post(f"/author/drafts/{draft_id}/files",
                               data={"kind": kind, "name": name, "title": title})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    files = draft(draft_id).files
    assert "lessons: [forged-visas]" in files["courses/document-checks/course.md"]
    assert set(files) == {"courses/document-checks/course.md",
                          "courses/document-checks/introduction.md",
                          "courses/document-checks/forged-visas.md",
                          "quizzes/document-checks/visa-questions.yaml",
                          "quizzes/document-checks/visa-check.yaml",
                          "quizzes/document-checks/visa-check-questions.yaml"}
    page = client.get(f"/author/drafts/{draft_id}/publish")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    response = client.post(f"/author/drafts/{draft_id}/publish", data={"confirm": "yes"})
    assert response.status_code == 302
    db.session.expire_all()
    course = db.session.scalar(sa.select(Course).where(Course.slug == "document-checks"))
    version = db.session.get(CourseVersion, course.current_version_id)
    assert version.title == "Document checks" and version.lesson_count == 2
    assert client.get("/courses/document-checks/forged-visas/").status_code == 200


def test_new_course_names_are_checked(client, trainer):
    for slug in ("field-basics", "Bad Name", "../x", ""):
        response = client.post("/author/drafts/new", data={"slug": slug, "title": "T"})
        assert response.status_code == 400, slug
    assert draft(1) is None


def test_problems_are_shown_inline_with_line_numbers(client, trainer):
    draft_id = open_draft(client)
    fields = editor_fields(client, draft_id, LESSON)
    broken = fields["text"].replace("estimated_minutes: 5", "estimated_minutes: lots")
    response = save(client, draft_id, LESSON, broken, fields)
    page = client.get(f"/author/drafts/{draft_id}/", query_string={"file": LESSON})
    html = page.get_data(as_text=True)
    assert "line 3</code> <strong>error</strong>" in html
    # From another file, the problem is listed with a link to the file that has it.
    other = client.get(f"/author/drafts/{draft_id}/",
                       query_string={"file": "courses/field-basics/course.md"})
    html = other.get_data(as_text=True)
    # The lesson's error, and its French translation now stale (not editable here).
    assert "2 problems in other files of this draft." in html
    assert "<code>courses/field-basics/first-steps.fr.md</code></a> <code>line 2</code>" in html
    assert (f'<a href="/author/drafts/{draft_id}/?file=courses/field-basics/first-steps.md">'
            f"<code>{LESSON}</code></a> <code>line 3</code> <strong>error</strong>") in html
    # The script's debounced check: unsaved text, problems as JSON with their lines.
    response = client.post(f"/author/drafts/{draft_id}/check",
                           headers={"Accept": "application/json"},
                           data={"path": LESSON, "text": broken.replace(
                               "[the second](second-steps.md#details)", "[x](nowhere.md)")})
    body = response.get_json()
    lines = {(p["line"], p["severity"]) for p in body["problems"]}
    assert (3, "error") in lines and (10, "error") in lines
    assert any("nowhere" in p["message"] for p in body["problems"])
    # Without the script, Check shows the page with the unsaved text kept.
    response = client.post(f"/author/drafts/{draft_id}/check",
                           data={"path": LESSON, "text": "no front matter"})
    assert response.status_code == 200
    assert "no front matter</textarea>" in response.get_data(as_text=True)
    assert draft(draft_id).files[LESSON] == broken  # the check saved nothing


def test_preview_uses_the_officers_renderer_and_is_sanitised(client, trainer):
    draft_id = open_draft(client)
    text = ("---\ntitle: First steps\nestimated_minutes: 5\n---\n## Heading\n\n"
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
            "[Next](second-steps.md)\n")
    response = client.post(f"/author/drafts/{draft_id}/check",
                           headers={"Accept": "application/json"},
                           data={"path": LESSON, "text": text})
    preview = response.get_json()["preview"]
    assert "<h2" in preview and "/courses/field-basics/second-steps/" in preview
    assert "<script" not in preview and "onerror" not in preview
    page = client.post(f"/author/drafts/{draft_id}/check", data={"path": LESSON, "text": text})
    article = page.get_data(as_text=True).split('id="preview"')[1]
    assert "<script>alert" not in article and "onerror" not in article


def test_item_writing_checks_show_on_the_question_preview(client, trainer):
    draft_id = open_draft(client)
    bank = f"quizzes/{COURSE}/check-bank.yaml"
    fields = editor_fields(client, draft_id, bank)
    text = fields["text"].replace("Whom do you ask about the journey?",
                                  "Whom do you not ask about the journey?")
    assert save(client, draft_id, bank, text, fields).status_code == 302
    html = client.get(f"/author/drafts/{draft_id}/questions",
                      query_string={"file": bank}).get_data(as_text=True)
    line = text.splitlines().index("  - id: check-first-question") + 1
    expected = (f"line {line}</code> <strong>warning</strong>: question "
                "&#39;check-first-question&#39;: the negative word &#39;not&#39;")
    assert expected in html


def test_a_new_lesson_is_added_to_the_course_outline(client, trainer):
    draft_id = open_draft(client)
    response = client.post(f"/author/drafts/{draft_id}/files",
                           data={"kind": "lesson", "name": "new-topic", "title": "New topic"})
    assert response.status_code == 302
    assert "new-topic.md" in response.headers["Location"]
    course_md = draft(draft_id).files[f"courses/{COURSE}/course.md"]
    assert '  - title: "New topic"\n    lessons: [new-topic]\n---' in course_md
    page = client.get(f"/author/drafts/{draft_id}/publish")
    assert page.status_code == 200  # the whole draft passes the check
    assert "New topic" in page.get_data(as_text=True)
