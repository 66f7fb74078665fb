"""Ownership matrix: who may view, edit, review and grant; question previews hide the key."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from learning.author.models import CourseDraft, CourseMember
from learning.extensions import db
from tests.authoring import LESSON, draft, make_owner

BANK = "quizzes/field-basics/bank.yaml"
IDENTITIES = ("owner", "editor", "other_trainer", "officer", "manager", "admin")
# view (GET editor), edit (POST save), review (POST approve a draft in review by someone
# else), grant (POST a membership), open (POST 'Edit' on the course)
MATRIX = {
    "owner": (200, 302, 302, 403, 302),
    "editor": (200, 302, 302, 403, 302),
    "other_trainer": (200, 403, 403, 403, 403),
    "officer": (403, 403, 403, 403, 403),
    "manager": (403, 403, 403, 403, 403),
    "admin": (200, 302, 302, 302, 302),
}


@pytest.fixture
def world(app_ctx, make_user, agency, synced):
    users = {"owner": make_user("trainer"), "editor": make_user("trainer"),
             "other_trainer": make_user("trainer"), "officer": make_user("officer"),
             "manager": make_user("manager"), "admin": make_user("admin"),
             "writer": make_user("trainer"), "newcomer": make_user("trainer")}
    make_owner(users["owner"])
    make_owner(users["editor"], role="editor")
    make_owner(users["writer"], role="editor")
    from learning.author.drafts import open_draft
    written, _created = open_draft("field-basics", users["writer"])
    written.state, written.contributors = "in_review", [users["writer"].id]
    db.session.commit()
    return users, written.id


@pytest.mark.parametrize("identity", IDENTITIES)
def test_ownership_matrix(client, login_as, world, identity):
    users, draft_id = world
    login_as(users[identity])
    text = draft(draft_id).files[LESSON]
    statuses = (
        client.get(f"/author/drafts/{draft_id}/").status_code,
        client.post(f"/author/drafts/{draft_id}/approve").status_code,
        client.post(f"/author/drafts/{draft_id}/save", data={
            "path": LESSON, "text": text + "\nEdited.\n", "revision": "1",
            "base": ""}).status_code,
        client.post("/author/courses/field-basics/members",
                    data={"email": users["newcomer"].email, "role": "editor"}).status_code,
        client.post("/author/courses/field-basics/draft").status_code,
    )
    view, approve, edit, grant, opened = statuses
    assert (view, edit, approve, grant, opened) == MATRIX[identity]
    saved = draft(draft_id)
    assert saved.files[LESSON].endswith("Edited.\n") == (edit == 302)
    newcomer = db.session.scalar(sa.select(CourseMember).where(
        CourseMember.user_id == users["newcomer"].id))
    assert (newcomer is not None) == (grant == 302)


def test_admins_revoke_and_grants_name_only_active_trainers(client, login_as, world):
    users, _draft_id = world
    login_as(users["admin"])
    for email, role in ((users["officer"].email, "editor"), ("nobody@x.test", "editor"),
                        (users["newcomer"].email, "king")):
        response = client.post("/author/courses/field-basics/members",
                               data={"email": email, "role": role})
        assert response.status_code == 400
    member = db.session.scalar(sa.select(CourseMember).where(
        CourseMember.user_id == users["editor"].id))
    response = client.post(f"/author/courses/field-basics/members/{member.id}/revoke")
    assert response.status_code == 302
    assert db.session.get(CourseMember, member.id) is None
    assert client.post("/author/courses/other-course/members/1/revoke").status_code == 404


def test_a_trainer_who_starts_a_course_owns_it(client, login_as, world):
    users, _draft_id = world
    login_as(users["other_trainer"])
    client.post("/author/drafts/new", data={"slug": "new-course", "title": "New"})
    member = db.session.scalar(sa.select(CourseMember).where(
        CourseMember.course_slug == "new-course"))
    assert (member.user_id, member.role) == (users["other_trainer"].id, "owner")


@pytest.mark.parametrize("mode", ["officer", "reviewer"])
def test_question_previews_hide_the_key_from_the_officers_view(client, login_as, world, mode):
    users, draft_id = world
    login_as(users["owner"])
    response = client.get(f"/author/drafts/{draft_id}/questions",
                          query_string={"file": BANK, "mode": mode})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "A companion holds the traveller" in html
    secrets = ("REFER-FEEDBACK", "WAVE-FEEDBACK", "SECRET-EXPLANATION", "tag-correct",
               "Correct answer")
    if mode == "officer":
        assert not [s for s in secrets if s in html]
        assert 'type="radio"' in html
    else:
        assert all(s in html for s in secrets)


def test_hostile_form_fields_change_nothing(client, login_as, world):
    users, draft_id = world
    login_as(users["owner"])
    before = draft(draft_id)
    files, revision = dict(before.files), before.revision
    for data in (
        {"path": "../../instance/secret_key", "text": "x", "revision": "1"},
        {"path": "courses/other-course/lesson.md", "text": "x", "revision": "1"},
        {"path": "courses/field-basics/media.md", "text": "x", "revision": "1"},
        {"path": "courses/field-basics/a/b.md", "text": "x", "revision": "1"},
        {"path": LESSON, "text": "x", "revision": "²"},
        {"path": LESSON, "text": "x", "revision": "99999999999999999999999"},
        {"path": LESSON, "revision": "1"},
        {"path": LESSON, "text": "x" * (1024 * 1024 + 1), "revision": "1", "base": ""},
    ):
        response = client.post(f"/author/drafts/{draft_id}/save", data=data)
        assert response.status_code == 400, data["path"]
    for data in ({"kind": "virus", "name": "x"}, {"kind": "lesson", "name": "../x"},
                 {"kind": "lesson", "name": "first-steps"}, {"kind": "lesson", "name": "media"}):
        assert client.post(f"/author/drafts/{draft_id}/files", data=data).status_code == 400
    assert client.post(f"/author/drafts/{draft_id}/check",
                       data={"path": "/etc/passwd", "text": "x"}).status_code == 400
    after = draft(draft_id)
    assert (after.files, after.revision) == (files, revision)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseDraft)) == 1
