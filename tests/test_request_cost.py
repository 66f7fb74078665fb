"""Work a signed-in page no longer repeats per request, and what it must still get right."""

import itertools

from flask import template_rendered
from itsdangerous import TimestampSigner

from learning.accounts.models import User
from learning.accounts.signed_in import signed_in_user
from learning.extensions import db
from tests.conftest import csrf_token_from
from tests.test_assessments import attempt_row, correct_form, start

LESSON = "/courses/field-basics/first-steps/"


def test_the_csrf_token_is_signed_once_per_session(app, client, synced, make_user, login_as,
                                                    isolated_requests, monkeypatch):
    clock = itertools.count(1_700_000_000, 60)  # a minute passes at every signature
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(clock))
    login_as(make_user("officer"))
    app.config["WTF_CSRF_ENABLED"] = True
    first = csrf_token_from(client.get(LESSON).get_data(as_text=True))
    second = csrf_token_from(client.get(LESSON).get_data(as_text=True))
    assert first == second  # the same signature, not a new one per page
    assert client.post(LESSON, data={"csrf_token": second}).status_code == 302

    client.post("/logout", data={"csrf_token": second})
    app.config["WTF_CSRF_ENABLED"] = False  # login_as posts the form without a token
    login_as(make_user("officer"))
    app.config["WTF_CSRF_ENABLED"] = True
    other = csrf_token_from(client.get(LESSON).get_data(as_text=True))
    assert other != first  # a new session has its own raw token, hence its own signature
    assert client.post(LESSON, data={"csrf_token": first}).status_code == 400


def test_every_page_template_reuses_the_sessions_signed_token(app, client, synced, make_user,
                                                              login_as, isolated_requests,
                                                              monkeypatch):
    """Templates call csrf_token() too (sign-out, language forms): they get the kept signature.
    (A WTForms form signs its own when the view builds it.)"""
    clock = itertools.count(1_700_000_000, 60)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(clock))
    login_as(make_user("officer"))
    app.config["WTF_CSRF_ENABLED"] = True
    tokens = {csrf_token_from(client.get(url).get_data(as_text=True))
              for url in ("/courses/", LESSON, "/courses/field-basics/", "/courses/")}
    assert len(tokens) == 1


def test_the_progress_bar_is_rendered_once_per_figures(app, client, synced, make_user,
                                                       login_as, isolated_requests):
    rendered: list[str] = []

    def record(sender, template, context, **extra) -> None:
        rendered.append(template.name)

    first, second, third = (make_user("officer") for _ in range(3))
    template_rendered.connect(record, app)
    try:
        for reader in (first, second):
            login_as(reader)
            assert "0 of 4 lessons" in client.get(LESSON).get_data(as_text=True)
            client.post("/logout")
        assert rendered.count("partials/progress.html") == 1  # same figures: reused
        login_as(third)
        client.post(LESSON)  # completes it (and redirects to the next lesson)
        assert "1 of 4 lessons" in client.get(LESSON).get_data(as_text=True)
        assert rendered.count("partials/progress.html") == 2  # new figures: rendered
    finally:
        template_rendered.disconnect(record, app)


def test_the_signed_in_user_is_one_query_and_an_ordinary_orm_object(
        app_ctx, make_user, count_statements):
    user_id = make_user("officer").id
    db.session.remove()  # a new request: nothing in the session yet
    with count_statements() as counter:
        user = signed_in_user(user_id, 0)
        assert user.agency.name == "Agency A" and user.agency.language is None
        assert user.unit is None  # a lazy relationship still works (no unit: no query)
    assert counter.count == 1
    assert user in db.session and not db.session.dirty
    user.language = "fr"  # changes are flushed like those of any loaded object
    db.session.commit()
    db.session.remove()
    assert db.session.get(User, user_id).language == "fr"
    assert signed_in_user(user_id, 1) is None  # an ended session's generation
    assert signed_in_user(user_id + 1000, 0) is None


def test_the_signed_in_user_is_the_object_already_in_the_session(app_ctx, make_user):
    user = make_user("officer")  # still in this session, as in a test that holds a context
    assert signed_in_user(user.id, user.session_generation) is user


def test_a_submit_reads_the_attempt_once_and_writes_once(
        client, synced, make_user, login_as, count_statements):
    login_as(make_user("officer"))
    attempt_id, location = start(client)
    attempt_row(attempt_id)
    client.get(location)  # the officer saw the attempt: the version's questions are cached
    with count_statements() as counter:
        response = client.post(location + "submit", data={"sequence": "1"})  # fails: no answers
    assert response.status_code == 303
    statements = [" ".join(s.split())[:13] for s in counter.statements]
    assert [s for s in statements if s != "SELECT user_a"] == [  # (the signed-in user)
        "SELECT attemp", "UPDATE attemp"]  # the graded row is not read back: a redirect follows
    graded = attempt_row(attempt_id)
    assert graded.status == "submitted" and graded.submitted_by == "learner"
    assert graded.passed is False and graded.score == 0 and graded.results


def test_the_session_cookie_serializer_is_made_once_per_key(app, client, synced, make_user,
                                                           login_as, isolated_requests):
    interface = app.session_interface
    login_as(make_user("officer"))
    assert client.get(LESSON).status_code == 200
    serializer = interface.get_signing_serializer(app)
    assert client.get(LESSON).status_code == 200
    assert interface.get_signing_serializer(app) is serializer  # reused, not rebuilt

    old_key = app.secret_key
    app.config["SECRET_KEY"] = "a-rotated-key-" + "x" * 40
    try:
        assert interface.get_signing_serializer(app) is not serializer
        # The cookie signed with the old key is no longer accepted: back to sign-in.
        assert client.get(LESSON).status_code == 302
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        assert client.get(LESSON).status_code == 200  # the old key as a fallback still reads
    finally:
        app.config["SECRET_KEY"] = old_key
        app.config["SECRET_KEY_FALLBACKS"] = []


def test_the_lesson_page_is_the_same_bytes_as_a_whole_rendering(app, client, synced, make_user,
                                                                login_as, isolated_requests,
                                                                monkeypatch):
    """The shell (kept encoded) filled for a reader equals the page rendered in one piece,
    which the page does when a flashed message is waiting, even a minute later."""
    clock = itertools.count(1_700_000_000, 60)  # a minute passes at every signature
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: next(clock))
    reader = make_user("officer", name="Zoë <Ança> & co")
    login_as(reader)
    shelled = client.get(LESSON)
    assert shelled.content_type == "text/html; charset=utf-8"
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "hello")]
    whole = client.get(LESSON).get_data(as_text=True)
    page = shelled.get_data(as_text=True)
    assert "Zoë &lt;Ança&gt; &amp; co" in page and "Zoë &lt;Ança&gt; &amp; co" in whole
    assert _words(page) == _words(whole.replace(_flash_block(whole), ""))


def _words(html: str) -> str:
    return " ".join(html.split())


def _flash_block(html: str) -> str:
    start = html.index('<div class="flashes"')
    return html[start:html.index("</div>", start) + len("</div>")]


def _statements_and_modes(counter) -> list[tuple[str, str | None]]:
    return [(" ".join(statement.split())[:40], mode)
            for statement, mode in zip(counter.statements, counter.isolation_levels,
                                       strict=True)]


def test_an_answer_save_sends_each_statement_alone(
        app, client, synced, make_user, login_as, isolated_requests, backend,
        count_statements):
    """A save's statements (user, attempt, compare-and-set) need no transaction: on
    PostgreSQL each is sent alone, without BEGIN and COMMIT (SQLite's cost no round trip
    and are left alone). Other writes keep theirs."""
    login_as(make_user("officer"))
    attempt_id, location = start(client)
    form = correct_form(attempt_row(attempt_id))
    db.session.close()  # the test's reads share the requests' session: end them, as a
    # new request's session would be empty, with no transaction
    with count_statements() as saving:
        saved = client.post(location + "save", data=form,
                            headers={"Accept": "application/json"})
    with count_statements() as marking:
        client.post(LESSON)  # marking a lesson read: an ordinary transaction
    assert saved.status_code == 200, saved.get_data(as_text=True)
    seen = _statements_and_modes(saving)
    assert seen[0][0].startswith("SELECT user_a")  # the user loader's
    expected = "AUTOCOMMIT" if backend == "postgresql" else None
    assert {mode for _statement, mode in seen} == {expected}, seen
    writes = [mode for statement, mode in _statements_and_modes(marking)
              if not statement.startswith("SELECT")]
    assert writes and "AUTOCOMMIT" not in writes  # (its completion check reads alone)
    attempt = attempt_row(attempt_id)
    assert attempt.status == "open" and len(attempt.answers) == len(form["included"])


def test_a_submit_that_completes_a_course_issues_in_a_transaction(
        app, client, synced, make_user, login_as, isolated_requests, count_statements):
    """After the submit's compare-and-set commits, issuing the certificate (completion,
    certificate and audit rows together) runs in an ordinary transaction again."""
    import sqlalchemy as sa

    from learning.certificates.models import Certificate
    from tests.test_certificates import read_all_lessons

    login_as(make_user("officer"))
    read_all_lessons(client)
    attempt_id, location = start(client)
    form = correct_form(attempt_row(attempt_id))
    db.session.rollback()  # as a new request's session would, start with no transaction
    with count_statements() as submitting:
        assert client.post(location + "submit", data=form).status_code == 303
    seen = _statements_and_modes(submitting)
    inserts = [(statement, mode) for statement, mode in seen if statement.startswith("INSERT")]
    assert {statement.split()[2] for statement, _mode in inserts} >= {
        "completion", "certificate", "audit_entry"}, seen
    assert all(mode != "AUTOCOMMIT" for _statement, mode in inserts), seen
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1
