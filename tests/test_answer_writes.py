"""An attempt's save and submit statements, sent alone on a pooled connection or, when the
session has a transaction in progress, inside it: the same rows either way."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from learning.assessments import answering
from learning.assessments.answering import _GRADE, _STORE_ANSWERS
from learning.assessments.models import OPEN, SUBMITTED, Attempt
from learning.extensions import db
from learning.ops.dbconnections import DriverStatement, lone_connection
from tests.test_assessments import attempt_row, correct_form, start


@pytest.fixture
def officer(make_user, login_as, synced):
    user = make_user("officer")
    login_as(user)
    return user


_RAW = sa.text("SELECT status, answers, results, submitted_at, passed, score, revision "
               "FROM attempt WHERE id = :id")


def _grade_params(attempt: Attempt, now: datetime) -> dict:
    return {"attempt_id": attempt.id, "seen": attempt.revision,
            "next_revision": attempt.revision + 1, "now": now, "by": "learner",
            "answers": {"q-1": {"v": ["a", "é"], "s": 7}}, "score": 1.5, "max_score": 2,
            "percent": 75.0, "passed": True, "results": {"q-1": 1.5}}


def _stored(attempt_id: int) -> tuple:
    """The row as the database holds it (JSON as text, times as the driver gives them)."""
    with lone_connection() as connection:
        return tuple(connection.execute(_RAW, {"id": attempt_id}).one())


def test_a_driver_write_stores_what_sqlalchemy_stores(app, client, officer, monkeypatch):
    """The same UPDATE sent through SQLAlchemy and on the DBAPI connection leaves the same
    stored values (JSON, a time, a boolean), commits, and applies once: a second one from
    the same revision matches no row."""
    now = datetime(2026, 12, 4, 20, 15, 30, 123456)
    attempt_id, _ = start(client)
    attempt = attempt_row(attempt_id)
    params, revision = _grade_params(attempt, now), attempt.revision
    db.session.rollback()
    with lone_connection() as connection:  # SQLAlchemy's way first
        assert connection.execute(_GRADE, params).rowcount == 1
        connection.commit()
    theirs = _stored(attempt_id)
    with lone_connection() as connection:  # then back to open, at the same revision
        connection.execute(sa.update(Attempt).where(Attempt.id == attempt_id)
                           .values(status=OPEN, revision=revision))
        connection.commit()
    checkouts = []
    original = db.engine.raw_connection
    monkeypatch.setattr(db.engine, "raw_connection", lambda: checkouts.append(1) or original())
    statement = DriverStatement.of(_GRADE)
    assert not db.engine.dispatch.before_cursor_execute  # nobody listens: the driver's way
    assert statement.write(params) == 1 and checkouts == [1]
    assert statement.write(params) == 0  # the revision has moved on
    ours = _stored(attempt_id)
    assert ours == theirs and ours[0] == SUBMITTED and ours[-1] == revision + 1
    graded = attempt_row(attempt_id)
    assert (graded.answers, graded.results, graded.submitted_at, graded.passed) == (
        {"q-1": {"v": ["a", "é"], "s": 7}}, {"q-1": 1.5}, now, True)
    pooled = original()
    try:
        assert not getattr(pooled.driver_connection, "autocommit", False)  # as it was
    finally:
        pooled.close()


def test_a_failed_driver_write_leaves_nothing_behind(app, client, officer):
    attempt_id, _ = start(client)
    attempt = attempt_row(attempt_id)
    revision, answers = attempt.revision, attempt.answers
    db.session.rollback()
    statement = DriverStatement(_STORE_ANSWERS, db.engine)
    statement.sql = statement.sql.replace("revision=", "no_such_column=")
    held = db.engine.pool.checkedout()
    with pytest.raises(db.engine.dialect.loaded_dbapi.Error):
        statement.write({"attempt_id": attempt_id, "seen": revision,
                         "answers": {"x": {"v": 1, "s": 1}}, "next_revision": 99})
    assert db.engine.pool.checkedout() == held
    assert attempt_row(attempt_id).answers == answers


def _count_driver_calls(monkeypatch) -> list[tuple[str, object]]:
    calls: list[tuple[str, object]] = []
    first, write = DriverStatement.first, DriverStatement.write

    def counted_first(self, params):
        calls.append(("first", self.statement))
        return first(self, params)

    def counted_write(self, params):
        calls.append(("write", self.statement))
        return write(self, params)

    monkeypatch.setattr(DriverStatement, "first", counted_first)
    monkeypatch.setattr(DriverStatement, "write", counted_write)
    return calls


def test_save_and_submit_requests_send_their_statements_alone(app, client, officer,
                                                              isolated_requests, monkeypatch):
    """A request whose session has nothing in progress (every real one): the attempt is
    read and written alone, and the session never holds a connection for it."""
    attempt_id, location = start(client)
    form = correct_form(attempt_row(attempt_id))
    db.session.close()  # as a new request's session would: empty, no transaction
    calls = _count_driver_calls(monkeypatch)
    saved = client.post(location + "save", data=form, headers={"Accept": "application/json"})
    assert saved.status_code == 200 and saved.get_json()["saved"]
    assert [kind for kind, statement in calls if statement is _STORE_ANSWERS] == ["write"]
    assert not db.session().in_transaction()
    calls.clear()
    assert client.post(location + "submit", data=dict(form, sequence="2000")).status_code == 303
    assert [kind for kind, statement in calls if statement is _GRADE] == ["write"]
    assert [kind for kind, _statement in calls].count("first") >= 2  # user, attempt
    graded = attempt_row(attempt_id)
    assert graded.status == SUBMITTED and graded.passed and graded.revision == 2


def test_a_write_inside_a_transaction_joins_it(app, client, officer, monkeypatch):
    """With a change of its own still uncommitted in the session (a view or a command
    doing more than a save), a submit reads and writes in that transaction: it grades
    the answers the session holds, and never waits on a second connection for them."""
    attempt_id, location = start(client)
    form = correct_form(attempt_row(attempt_id))
    assert client.post(location + "save", data=form).status_code == 303  # all correct
    attempt = attempt_row(attempt_id)
    assert len(attempt.answers) == len(form["included"])
    attempt.answers = {}
    db.session.flush()  # written in the session's transaction, not committed

    def refuse(self, params):
        raise AssertionError("sent alone while the session had a transaction in progress")

    monkeypatch.setattr(DriverStatement, "first", refuse)
    monkeypatch.setattr(DriverStatement, "write", refuse)
    assert answering.close_attempt(attempt_id) == "learner"
    graded = attempt_row(attempt_id)
    assert (graded.status, graded.answers, graded.score, graded.passed) == (
        SUBMITTED, {}, 0, False)


def _statements(counter) -> list[str]:
    return [" ".join(statement.split()) for statement in counter.statements]


def test_a_save_reads_the_user_and_the_attempt_in_one_statement(
        app, client, officer, make_user, login_as, isolated_requests, count_statements):
    """Two statements in all: the user with the attempt, then the compare-and-set. An
    attempt of someone else's is found in that same read to be none of theirs."""
    attempt_id, location = start(client)
    form = correct_form(attempt_row(attempt_id))
    db.session.close()
    with count_statements() as saving:
        saved = client.post(location + "save", data=form, headers={"Accept": "application/json"})
    assert saved.status_code == 200 and saved.get_json()["saved"]
    first, second = _statements(saving)
    assert first.startswith("SELECT user_account.") and "attempt.answers" in first
    assert second.startswith("UPDATE attempt SET answers=")
    login_as(make_user("officer"))  # another officer, the same address
    db.session.close()
    with count_statements() as probing:
        refused = client.post(location + "save", data=form,
                              headers={"Accept": "application/json"})
    assert refused.status_code == 404 and len(probing.statements) == 1
    assert len(attempt_row(attempt_id).answers) == len(form["included"])  # untouched


def test_the_row_read_with_the_user_serves_only_its_own_attempt(app, client, officer):
    """Kept for one attempt, it is not handed to a request about another (read afresh),
    nor to anything when the session has a transaction in progress."""
    from flask import g

    from learning.assessments.taker import attempt_state, signed_in_taker

    first, location = start(client)
    client.post(location + "submit", data={"sequence": "1"})
    second, _ = start(client, "/courses/field-basics/assessments/check-basics/")
    final = {"course_slug": "field-basics", "slug": "final", "attempt_id": first}
    check = {"course_slug": "field-basics", "slug": "check-basics", "attempt_id": second}
    generation = officer.session_generation
    db.session.close()
    with app.test_request_context():
        assert signed_in_taker(officer.id, generation, final) is not None
        kept = g.taken_attempt[1]
        assert (kept.id, kept.status) == (first, SUBMITTED)
        again = attempt_state(second, officer.id, "field-basics", "check-basics")
        assert (again.id, again.status) == (second, OPEN)
        signed_in_taker(officer.id, generation, check)
        assert attempt_state(second, officer.id, "field-basics", "final") is None  # not its
        signed_in_taker(officer.id, generation, check)
        attempt_row(second).revision = 41
        db.session.flush()  # the session now has a transaction in progress, with a change
        assert attempt_state(second, officer.id, "field-basics", "check-basics").revision == 41
        db.session.rollback()
        signed_in_taker(officer.id, generation, {**check, "slug": "check-basics\x00"})
        assert "taken_attempt" not in g  # a slug no assessment could have is not sent


def test_a_driver_statement_keeps_a_cursor_only_on_postgresql(app, officer, backend,
                                                             monkeypatch):
    """psycopg's cursor is kept with its pooled connection and used again; SQLite's is
    closed at once (an open one would keep its read snapshot). After a failed statement
    the connection is thrown away, and the next statement gets a fresh one that works."""
    from learning.accounts.models import User
    from learning.ops.dbconnections import _CURSOR

    users = User.__table__
    statement = DriverStatement(sa.select(users.c.id, users.c.email)
                                .where(users.c.id == sa.bindparam("id")), db.engine)
    expected = (officer.id, officer.email)
    db.session.close()
    handed: list = []
    original = db.engine.raw_connection
    monkeypatch.setattr(db.engine, "raw_connection", lambda: handed.append(original())
                        or handed[-1])
    assert statement.first({"id": expected[0]}) == expected
    assert statement.first({"id": expected[0]}).email == expected[1]
    kept = [fairy.info.get(_CURSOR) for fairy in handed]
    if backend == "postgresql":
        assert all(cursor is not None and not cursor.closed for cursor in kept)
    else:
        assert kept == [None, None]
    good_sql, statement.sql = statement.sql, statement.sql.replace("email", "no_such_column")
    with pytest.raises(db.engine.dialect.loaded_dbapi.Error):
        statement.first({"id": expected[0]})
    statement.sql = good_sql
    for _ in range(3):  # whichever pooled connection comes next
        assert statement.first({"id": expected[0]}) == expected
