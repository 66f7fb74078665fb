"""The lesson page shell: rendered once per version, filled per reader, never shared wrongly."""

import shutil

import pytest
import sqlalchemy as sa
from flask import g

from learning.accounts.models import User
from learning.accounts.service import end_all_sessions
from learning.catalogue.service import sync_catalogue
from learning.catalogue.shell import Shell, slot
from learning.extensions import db
from learning.ops.dbconnections import lone_connection
from learning.progress.service import reader_state, signed_in_reader
from tests.conftest import FIXTURE_CONTENT

LESSON = "/courses/field-basics/first-steps/"


def page(client, url=LESSON):
    response = client.get(url)
    assert response.status_code == 200, url
    html = response.get_data(as_text=True)
    assert "slot:" not in html  # every marker was filled
    return html


def test_shell_splits_at_markers_and_fills_each_slot():
    shell = Shell.split(f"<p>{slot('name')}</p><i>{slot('csrf')}</i>{slot('name')}.")
    assert shell.slots == ("name", "csrf", "name")
    assert shell.fill({"name": b"Ana", "csrf": b"t0k"}) == b"<p>Ana</p><i>t0k</i>Ana."
    with pytest.raises(KeyError):
        shell.fill({"name": b"Ana"})


def test_each_reader_sees_their_own_name_and_progress(client, synced, make_user, login_as):
    first = make_user("officer", name="Amira First")
    second = make_user("officer", name="<b>Bruno</b> Second")
    login_as(first)
    client.post(LESSON)
    html = page(client)
    assert "Amira First" in html and "You completed this lesson." in html
    assert "1 of 4 lessons" in html
    client.post("/logout")

    login_as(second)
    html = page(client)  # same lesson, same version: the shell is reused
    assert "Amira First" not in html and "You completed this lesson." not in html
    assert "&lt;b&gt;Bruno&lt;/b&gt; Second" in html and "<b>Bruno</b>" not in html
    assert "0 of 4 lessons" in html and "Mark complete and continue" in html


def test_the_csrf_token_is_the_readers_own(app, client, synced, make_user, login_as):
    login_as(make_user("officer"))
    app.config["WTF_CSRF_ENABLED"] = True
    html = page(client)
    tokens = set(html.split('name="csrf_token" value="')[1:])
    assert len({token.split('"')[0] for token in tokens}) == 1
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post(LESSON, data={"csrf_token": token}).status_code == 302


def test_the_navigation_follows_the_role(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    assert ">Author</a>" not in page(client)
    client.post("/logout")
    login_as(make_user("trainer"))
    assert ">Author</a>" in page(client)


def test_an_ended_session_does_not_get_the_cached_page(client, synced, make_user, login_as):
    officer = make_user("officer")
    login_as(officer)
    page(client)
    end_all_sessions(db.session.get(User, officer.id))
    db.session.commit()
    g.pop("_login_user", None)  # the tests' app context outlives requests; a server's does not
    response = client.get(LESSON)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_new_version_shows_its_new_text(app_ctx, client, make_user, login_as, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    sync_catalogue(content / "courses", content / "quizzes")
    login_as(make_user("officer"))
    url = "/courses/field-basics/wrap-up/"
    assert "The last lesson." in page(client, url)
    lesson = content / "courses/field-basics/wrap-up.md"
    lesson.write_text(lesson.read_text().replace("The last lesson.", "The final lesson."))
    assert sync_catalogue(content / "courses", content / "quizzes").created
    html = page(client, url)
    assert "The final lesson." in html and "The last lesson." not in html


def test_a_flashed_message_is_shown_once(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    response = client.post(LESSON, follow_redirects=True)
    assert "Lesson marked as complete." in response.get_data(as_text=True)
    assert "Lesson marked as complete." not in page(client, "/courses/field-basics/second-steps/")


def test_reader_state_is_one_query_per_reader(app_ctx, synced, make_user, client, login_as,
                                             count_statements):
    reader, other = make_user("officer"), make_user("officer")
    reader_id, other_id = reader.id, other.id
    login_as(other)
    client.post(LESSON)
    with count_statements() as counter:
        state = reader_state(reader_id, "field-basics")
    assert counter.count == 1
    assert state.completed == {}
    assert reader_state(other_id, "field-basics").completed.keys() == {"first-steps"}
    assert reader_state(reader_id, "no-such-course") is None
    assert state.version_id == db.session.scalar(
        sa.text("SELECT current_version_id FROM course WHERE slug = 'field-basics'"))


def test_the_reader_and_their_course_state_are_one_statement(app_ctx, synced, make_user,
                                                             client, login_as,
                                                             count_statements):
    reader, other = make_user("officer"), make_user("officer")
    reader_id, other_id = reader.id, other.id
    login_as(reader)
    client.post(LESSON)
    client.post("/courses/field-basics/second-steps/")
    db.session.remove()  # a new request: nothing loaded yet
    with count_statements() as counter:
        user, state = signed_in_reader(reader_id, 0, "field-basics")
    assert counter.count == 1
    assert user.id == reader_id and user.agency.name == "Agency A"
    assert state == reader_state(reader_id, "field-basics")
    assert state.completed.keys() == {"first-steps", "second-steps"}
    assert signed_in_reader(other_id, 0, "field-basics")[1].completed == {}
    assert signed_in_reader(reader_id, 0, "no-such-course") == (user, None)
    assert signed_in_reader(reader_id, 1, "field-basics") == (None, None)  # ended session
    # Any address the lesson route matches may reach it (an error page's user): a slug no
    # course can have is never sent to the database (PostgreSQL refuses NUL bytes).
    assert signed_in_reader(reader_id, 0, "a\x00b") == (user, None)
    assert signed_in_reader(reader_id, 0, "x" * 101) == (user, None)


def test_a_lesson_page_opens_no_transaction(app, client, synced, make_user, login_as,
                                            backend):
    """The page's one SELECT runs outside the session's transaction (in autocommit on
    PostgreSQL: no BEGIN and no ROLLBACK round trips); marking the lesson still commits.
    (The view's own path; the fast path opens no session: see test_lesson_fast_path.)"""
    app.config["LESSON_FAST_PATH"] = False
    in_transaction = []
    app.teardown_request(lambda _error: in_transaction.append(db.session().in_transaction()))
    login_as(make_user("officer"))
    client.get("/courses/field-basics/second-steps/")  # the first reader builds the page
    in_transaction.clear()
    # Requests share the test's app context (``synced``): start this one as a fresh
    # request would, with no session and no user loaded.
    db.session.remove()
    g.pop("_login_user", None)
    assert client.get("/courses/field-basics/second-steps/").status_code == 200
    assert client.post(LESSON).status_code == 302
    assert in_transaction == [False, True]
    with app.app_context():
        with lone_connection() as connection:
            dbapi = connection.connection.driver_connection
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
            if backend == "postgresql":
                assert dbapi.autocommit  # no BEGIN sent
        if backend == "postgresql":
            assert not dbapi.autocommit  # back in the pool as the session expects it
