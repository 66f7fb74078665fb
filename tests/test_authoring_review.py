"""Review rules: finals need another person's approval; the rest as configured."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from learning.audit.models import AuditEntry
from learning.author import review
from learning.author.models import DraftComment
from learning.extensions import db
from tests.authoring import LESSON, draft, editor_fields, make_owner, open_draft, save

FINAL = "quizzes/field-basics/final.yaml"
FINAL_BANK = "quizzes/field-basics/bank.yaml"
COURSE_FILE = "courses/field-basics/course.md"


@pytest.fixture
def people(app_ctx, make_user, synced):
    author, reviewer = make_user("trainer"), make_user("trainer")
    make_owner(author)
    make_owner(reviewer, role="editor")
    return author, reviewer


def _edit(client, draft_id, path, old, new):
    fields = editor_fields(client, draft_id, path)
    assert old in fields["text"]
    assert save(client, draft_id, path, fields["text"].replace(old, new), fields
                ).status_code == 302


def _denied() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "author.draft_approved", AuditEntry.outcome == "denied"))


@pytest.mark.parametrize(("path", "old", "new"), [
    (FINAL, "max_attempts: 2", "max_attempts: 3"),
    (FINAL_BANK, "Wave them through.", "Let them pass."),  # a bank the final draws from
    # course.md's certification terms: certified without the final, with a lower pass
    # mark (finals without their own inherit it), or for longer
    (COURSE_FILE, "pass_mark: 80", "pass_mark: 80\ncompletion: {lessons: all, assessment: null}"),
    (COURSE_FILE, "pass_mark: 80", "pass_mark: 10"),
    (COURSE_FILE, "certificate_validity_months: 24", "certificate_validity_months: 240"),
])
def test_a_change_to_a_final_needs_another_persons_approval(client, login_as, people, path,
                                                            old, new):
    author, reviewer = people
    login_as(author)
    draft_id = open_draft(client)
    _edit(client, draft_id, path, old, new)
    assert client.get(f"/author/drafts/{draft_id}/publish").status_code == 409
    assert client.post(f"/author/drafts/{draft_id}/publish",
                       data={"confirm": "yes"}).status_code == 409
    assert client.post(f"/author/drafts/{draft_id}/approve").status_code == 409  # not submitted
    assert client.post(f"/author/drafts/{draft_id}/submit").status_code == 302
    assert draft(draft_id).state == "in_review"
    assert client.post(f"/author/drafts/{draft_id}/approve").status_code == 403  # own draft
    assert draft(draft_id).state == "in_review" and _denied() == 1
    client.post("/logout")
    login_as(reviewer)
    # Before approving, the reviewer reads every changed file against the published one.
    editor = client.get(f"/author/drafts/{draft_id}/").get_data(as_text=True)
    assert f'href="/author/drafts/{draft_id}/differences"' in editor
    diff = client.get(f"/author/drafts/{draft_id}/differences").get_data(as_text=True)
    assert f"<code>{path}</code>" in diff and diff.count('class="diff"') == 1
    added = [unescape(t) for t in re.findall(
        r'<span class="diff-add"><span class="diff-mark"[^>]*>\+</span>(.*?)</span>', diff)]
    removed = [unescape(t) for t in re.findall(
        r'<span class="diff-remove"><span class="diff-mark"[^>]*>−</span>(.*?)</span>', diff)]
    assert any(new.splitlines()[-1] in line for line in added)
    assert old in new or any(old in line for line in removed)
    assert client.post(f"/author/drafts/{draft_id}/approve").status_code == 302
    assert draft(draft_id).state == "approved" and draft(draft_id).reviewer_id == reviewer.id
    assert client.post(f"/author/drafts/{draft_id}/publish",
                       data={"confirm": "yes"}).status_code == 302
    assert draft(draft_id).state == "published"


def test_a_reviewer_who_changed_the_draft_may_not_approve_it(client, login_as, people):
    author, reviewer = people
    login_as(reviewer)
    draft_id = open_draft(client)
    _edit(client, draft_id, FINAL, "max_attempts: 2", "max_attempts: 3")
    client.post("/logout")
    login_as(author)
    client.post(f"/author/drafts/{draft_id}/submit")
    client.post("/logout")
    login_as(reviewer)
    assert client.post(f"/author/drafts/{draft_id}/approve").status_code == 403
    assert draft(draft_id).state == "in_review"


def test_changes_requested_go_back_with_a_comment_and_a_later_edit_needs_review_again(
        client, login_as, people):
    author, reviewer = people
    login_as(author)
    draft_id = open_draft(client)
    _edit(client, draft_id, FINAL, "max_attempts: 2", "max_attempts: 3")
    client.post(f"/author/drafts/{draft_id}/submit")
    client.post("/logout")
    login_as(reviewer)
    response = client.post(f"/author/drafts/{draft_id}/changes",
                           data={"comment": "Keep two attempts.", "path": FINAL})
    assert response.status_code == 302
    assert draft(draft_id).state == "draft"
    note = db.session.scalar(sa.select(DraftComment))
    assert (note.path, note.text, note.author_id) == (FINAL, "Keep two attempts.", reviewer.id)
    page = client.get(f"/author/drafts/{draft_id}/", query_string={"file": FINAL})
    assert "Keep two attempts." in page.get_data(as_text=True)
    client.post("/logout")
    login_as(author)
    client.post(f"/author/drafts/{draft_id}/submit")
    client.post("/logout")
    login_as(reviewer)
    client.post(f"/author/drafts/{draft_id}/approve")
    client.post("/logout")
    login_as(author)
    _edit(client, draft_id, LESSON, "The first lesson.", "Changed after approval.")
    assert draft(draft_id).state == "draft"  # the approval no longer covers the text
    assert client.get(f"/author/drafts/{draft_id}/publish").status_code == 409


def test_lessons_publish_without_review_when_the_setting_is_off(client, login_as, people):
    author, _reviewer = people
    login_as(author)
    draft_id = open_draft(client)
    _edit(client, draft_id, LESSON, "The first lesson.", "Edited.")
    assert client.get(f"/author/drafts/{draft_id}/publish").status_code == 200


@pytest.fixture
def app_config(app_config, request):
    if "review_for_all" in request.fixturenames:
        return {**app_config, "AUTHOR_REVIEW_REQUIRED": True}
    return app_config


@pytest.fixture
def review_for_all():
    return True


@pytest.mark.parametrize("tags", ["tags: [basics/other]", "tags: [unused/tag]", ""])
def test_a_translated_bank_feeding_a_final_is_judged_by_its_source(client, login_as, people,
                                                                   tags):
    """A zip can bring a new translation the browser cannot edit: the questions of a final
    in another language need review whatever tags the translation file claims (the
    loaded questions take their tags from the source)."""
    author, _reviewer = people
    login_as(author)
    row = draft(open_draft(client))
    spanish = re.sub(r"tags: \[[^]]*\]", tags, row.files["quizzes/field-basics/bank.fr.yaml"])
    row.files = {**row.files, "quizzes/field-basics/bank.es.yaml": spanish}
    db.session.commit()
    assert review.touches_final(draft(row.id))


def test_other_course_md_changes_publish_without_review(client, login_as, people):
    author, _reviewer = people
    login_as(author)
    draft_id = open_draft(client)
    _edit(client, draft_id, COURSE_FILE, "A fixture course used by the test suite.",
          "A fixture course the suite uses.")
    assert client.get(f"/author/drafts/{draft_id}/publish").status_code == 200


def test_the_setting_requires_review_for_every_draft(client, login_as, people, review_for_all):
    author, reviewer = people
    login_as(author)
    draft_id = open_draft(client)
    _edit(client, draft_id, LESSON, "The first lesson.", "Edited.")
    assert client.get(f"/author/drafts/{draft_id}/publish").status_code == 409
    client.post(f"/author/drafts/{draft_id}/submit")
    client.post("/logout")
    login_as(reviewer)
    client.post(f"/author/drafts/{draft_id}/approve")
    assert client.get(f"/author/drafts/{draft_id}/publish").status_code == 200


def test_a_draft_with_errors_cannot_go_to_review(client, login_as, people):
    author, _reviewer = people
    login_as(author)
    draft_id = open_draft(client)
    _edit(client, draft_id, LESSON, "estimated_minutes: 5", "estimated_minutes: lots")
    assert client.post(f"/author/drafts/{draft_id}/submit").status_code == 409
    assert draft(draft_id).state == "draft"
