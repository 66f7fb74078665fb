"""Rollbacks and zip imports follow the drafts' review rule: when review is required they
become a draft in review, approved by someone other than who asked, then published; every
step is audited. When review is not required they publish at once (tests/test_versions.py,
tests/test_zip_archive.py)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from learning.audit.models import AuditEntry
from learning.author.models import CourseDraft
from learning.author.ownership import grant
from learning.catalogue.archive import build_zip
from learning.catalogue.import_models import PendingCourseImport
from learning.catalogue.models import CourseVersion
from learning.catalogue.versions import version_entries
from learning.extensions import db
from tests.test_versions import content_dirs, numbered, two_versions  # noqa: F401 (fixtures)
from tests.test_zip_archive import current_version, upload, version_count

FINAL = "quizzes/field-basics/final.yaml"
WRAP_UP = "courses/field-basics/wrap-up.md"


@pytest.fixture
def editors(make_user, synced):
    """Two editors of the course: one asks, the other reviews."""
    people = [make_user("trainer"), make_user("trainer")]
    for person in people:
        grant("field-basics", person.email, "editor", None)
    db.session.commit()
    return people


def audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def the_draft() -> CourseDraft:
    db.session.expire_all()
    return db.session.scalar(sa.select(CourseDraft))


def review_and_publish(client, login_as, asker, reviewer, draft_id: int, lessons: list[str]):
    """The asker may not approve; the reviewer approves and publishes."""
    assert client.post(f"/author/drafts/{draft_id}/approve").status_code == 403
    assert [e.outcome for e in audit("author.draft_approved")] == ["denied"]
    assert client.post(f"/author/drafts/{draft_id}/publish",
                       data={"confirm": "yes"}).status_code == 409  # not approved
    client.post("/logout")
    login_as(reviewer)
    assert client.post(f"/author/drafts/{draft_id}/approve").status_code == 302
    choices = {f"significance-{slug}": "substantive" for slug in lessons}
    response = client.post(f"/author/drafts/{draft_id}/publish",
                           data={"confirm": "yes", **choices})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert the_draft().state == "published"


def test_a_rollback_needing_review_waits_for_another_persons_approval(
        app, client, login_as, editors, two_versions, isolated_requests):  # noqa: F811
    app.config["AUTHOR_REVIEW_REQUIRED"] = True
    asker, reviewer = editors
    old = numbered(two_versions, 1)
    old_files, old_assets, old_hash = dict(old.files), dict(old.assets), old.content_hash
    login_as(asker)
    page = client.get("/author/courses/field-basics/versions/1/rollback").get_data(as_text=True)
    assert 'value="Send to review"' in page and "to review as a draft" in page
    assert "This publishes the content" not in page and "Publish this content" not in page
    response = client.post("/author/courses/field-basics/versions/1/rollback")
    assert response.status_code == 303
    draft_id = int(re.search(r"/author/drafts/(\d+)/", response.headers["Location"]).group(1))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion)) == 2
    draft = the_draft()
    assert (draft.id, draft.state, draft.origin, draft.author_id) == (
        draft_id, "in_review", "rollback", asker.id)
    assert draft.files == old_files and draft.assets == old_assets
    [requested] = audit("course.rollback_requested")
    assert requested.actor_id == asker.id and requested.details["content_of"] == 1
    assert requested.details["draft"] == draft_id and audit("course.rollback") == []
    again = client.post("/author/courses/field-basics/versions/1/rollback")
    assert again.status_code == 409  # one open draft per course
    review_and_publish(client, login_as, asker, reviewer, draft_id, ["first-steps"])
    current = current_version()
    assert current.number == 3 and current.origin == "rollback"
    assert current.content_hash == old_hash and current.files == old_files
    [done] = audit("course.rollback")
    assert done.actor_id == reviewer.id and done.details["version"] == 3
    assert done.details["requested_by"] == asker.id
    assert done.details["approved_by"] == reviewer.id


def test_a_zip_changing_the_final_is_a_draft_in_review_until_approved(
        client, login_as, editors, isolated_requests):
    asker, reviewer = editors
    version = current_version()
    entries = dict(version_entries(version))
    entries[WRAP_UP] += b"\nA closing line from the zip.\n"
    entries[FINAL] = entries[FINAL].replace(b"pass_mark: 80", b"pass_mark: 81", 1)
    login_as(asker)
    previewed = upload(client, build_zip(entries.items()))
    assert previewed.status_code == 200
    page = previewed.get_data(as_text=True)
    assert 'value="Send to review"' in page and "needs a review before it is published" in page
    pending = db.session.scalar(sa.select(PendingCourseImport))
    response = client.post("/author/import/confirm",
                           data={"pending_id": pending.id, "sha256": pending.sha256})
    assert response.status_code == 303 and "/author/drafts/" in response.headers["Location"]
    assert version_count() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingCourseImport)) == 0
    draft = the_draft()
    assert (draft.state, draft.origin, draft.author_id) == ("in_review", "import", asker.id)
    assert draft.files[WRAP_UP].endswith("A closing line from the zip.\n")
    assert draft.assets == version.assets
    [requested] = audit("course.import_requested")
    assert requested.actor_id == asker.id and requested.details["draft"] == draft.id
    assert audit("course.import_zip") == []
    review_and_publish(client, login_as, asker, reviewer, draft.id, ["wrap-up"])
    new = current_version()
    assert new.number == 2 and new.origin == "import" and new.published_by == reviewer.id
    assert dict(version_entries(new)) == entries
    [done] = audit("course.import_zip")
    assert done.details["requested_by"] == asker.id and done.details["version"] == 2


def test_confirmation_pages_say_publish_when_no_review_is_needed(
        client, login_as, editors, two_versions, isolated_requests):  # noqa: F811
    """Rolling back or importing a change that touches no final publishes at once, and
    the pages say so; the same pages say "Send to review" above when review is needed."""
    asker, _reviewer = editors
    login_as(asker)
    page = client.get("/author/courses/field-basics/versions/1/rollback").get_data(as_text=True)
    assert "This publishes the content of version 1" in page
    assert 'value="Publish this content as a new version"' in page
    assert "Send to review" not in page
    entries = dict(version_entries(current_version()))
    entries[WRAP_UP] += b"\nA closing line from the zip.\n"
    page = upload(client, build_zip(entries.items())).get_data(as_text=True)
    assert 'id="confirm-import"' in page and 'value="Publish"' in page
    assert "Send to review" not in page and "needs a review" not in page
