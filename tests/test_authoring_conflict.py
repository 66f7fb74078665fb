"""Two trainers on one draft: a stale save is refused with a diff, and nothing is lost."""

from __future__ import annotations

import pytest

from tests.authoring import LESSON, draft, editor_fields, fields_of, make_owner, open_draft, save

BANK = "quizzes/field-basics/check-bank.yaml"


@pytest.fixture
def two(app, app_ctx, make_user, login_as, synced):
    """Two editors of the course, each signed in on their own client."""
    clients = []
    for _n in range(2):
        user = make_user("trainer")
        make_owner(user, role="editor")
        client = app.test_client()
        response = client.post("/login", data={"email": user.email,
                                               "password": "correct-horse-battery"})
        assert response.status_code == 302
        clients.append(client)
    return clients


def test_stale_save_is_refused_with_a_diff_and_the_text_kept(two, isolated_requests):
    alice, bob = two
    draft_id = open_draft(alice)
    assert open_draft(bob) == draft_id  # one open draft per course
    seen_by_alice = editor_fields(alice, draft_id, LESSON)
    seen_by_bob = editor_fields(bob, draft_id, LESSON)
    alices = seen_by_alice["text"].replace("The first lesson.", "Alice's first lesson.")
    bobs = seen_by_bob["text"].replace("The first lesson.", "Bob's first lesson.")
    assert save(alice, draft_id, LESSON, alices, seen_by_alice).status_code == 302

    response = save(bob, draft_id, LESSON, bobs, seen_by_bob)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved this file first" in html
    assert "-Alice&#39;s first lesson." in html and "+Bob&#39;s first lesson." in html
    kept = fields_of(html)
    assert kept["text"] == bobs  # Bob's text is still in the box
    assert draft(draft_id).files[LESSON] == alices  # and Alice's save stands

    # Bob saves again from the conflict page: a deliberate overwrite, now accepted.
    assert save(bob, draft_id, LESSON, kept["text"], kept).status_code == 302
    assert draft(draft_id).files[LESSON] == bobs


def test_autosave_gets_409_json_and_writes_nothing(two, isolated_requests):
    alice, bob = two
    draft_id = open_draft(alice)
    seen = editor_fields(bob, draft_id, LESSON)
    first = editor_fields(alice, draft_id, LESSON)
    response = save(alice, draft_id, LESSON, first["text"] + "\nMore.\n", first,
                    Accept="application/json")
    assert response.status_code == 200 and response.get_json()["saved"]
    response = save(bob, draft_id, LESSON, seen["text"] + "\nOther.\n", seen,
                    Accept="application/json")
    assert response.status_code == 409
    body = response.get_json()
    assert body["conflict"] and "+Other." in body["diff"] and "-More." in body["diff"]
    assert draft(draft_id).files[LESSON].endswith("More.\n")


def test_saves_to_different_files_do_not_conflict(two, isolated_requests):
    alice, bob = two
    draft_id = open_draft(alice)
    lesson = editor_fields(alice, draft_id, LESSON)
    bank = editor_fields(bob, draft_id, BANK)
    assert save(alice, draft_id, LESSON, lesson["text"] + "\nA.\n", lesson).status_code == 302
    assert save(bob, draft_id, BANK, bank["text"] + "\n", bank).status_code == 302
    saved = draft(draft_id)
    assert saved.files[LESSON].endswith("A.\n") and saved.files[BANK] == bank["text"] + "\n"
    assert saved.revision == 3


def test_textarea_line_endings_are_stored_as_in_files(two, isolated_requests):
    alice, _bob = two
    draft_id = open_draft(alice)
    seen = editor_fields(alice, draft_id, LESSON)
    save(alice, draft_id, LESSON, seen["text"].replace("\n", "\r\n"), seen)
    assert "\r" not in draft(draft_id).files[LESSON]
