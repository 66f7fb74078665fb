"""Concurrent requests against a real server process: one attempt, one grade, newest answer."""

from __future__ import annotations

import random
import re
import threading

import pytest
import sqlalchemy as sa

from learning.assessments.models import Attempt
from learning.extensions import db
from tests.conftest import PASSWORD
from tests.server import Client, gunicorn

FINAL = "/courses/field-basics/assessments/final/"
THREADS = 8


def run_together(count: int, action) -> list:
    """Run ``action(index)`` in ``count`` threads released at the same instant."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action(index)
        except Exception as exc:  # reported by the assertions, not swallowed
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def server(app, synced, content_dirs, database_url):
    with gunicorn(database_url, *content_dirs) as port:
        yield port


@pytest.fixture
def officer_client(server, make_user):
    user = make_user("officer")
    client = Client(server)
    client.log_in(user.email, PASSWORD)
    return client


def attempts() -> list[Attempt]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Attempt).order_by(Attempt.id)))


def test_concurrent_starts_create_one_attempt(officer_client):
    token = officer_client.csrf_token(FINAL)
    results = run_together(THREADS, lambda _i: officer_client.request(
        "POST", FINAL, [("csrf_token", token)]))
    statuses = [r[0] if isinstance(r, tuple) else r for r in results]
    assert statuses == [302] * THREADS
    locations = {r[1]["Location"] for r in results}
    assert len(locations) == 1  # every click leads to the same attempt
    assert len(attempts()) == 1


def test_concurrent_submits_grade_exactly_once(officer_client):
    token = officer_client.csrf_token(FINAL)
    status, headers, _ = officer_client.request("POST", FINAL, [("csrf_token", token)])
    attempt_url = headers["Location"]
    page = officer_client.request("GET", attempt_url)[2]
    question = re.search(r'name="q-(smuggling-ends)" value="true"', page)
    fields = [("csrf_token", token), ("sequence", "5000")]
    if question:
        fields += [("included", "smuggling-ends"), ("q-smuggling-ends", "true")]

    results = run_together(THREADS, lambda _i: officer_client.request(
        "POST", attempt_url + "submit", fields))
    assert [r[0] for r in results] == [303] * THREADS, results
    (attempt,) = attempts()
    assert attempt.status == "submitted" and attempt.score is not None
    # Exactly one write: the submitted answer merged and graded together.
    assert attempt.revision == 1
    if question:
        assert attempt.answers["smuggling-ends"]["v"] is True
    submitted_at = attempt.submitted_at
    officer_client.request("POST", attempt_url + "submit", fields)
    assert attempts()[0].submitted_at == submitted_at


def test_concurrent_saves_keep_the_newest_answer(officer_client):
    token = officer_client.csrf_token(FINAL)
    attempt_url = officer_client.request("POST", FINAL, [("csrf_token", token)])[1]["Location"]
    page = officer_client.request("GET", attempt_url)[2]
    qid = re.search(r'inputmode="decimal" id="q-([a-z0-9-]+)"', page)
    qid = qid.group(1) if qid else None
    if qid is None:  # the numeric question is always drawn by the fixture's final assessment
        pytest.fail("the numeric question was not drawn")
    sequences = list(range(1, 33))
    random.Random(7).shuffle(sequences)

    def save(index: int):
        sequence = sequences[index]
        return officer_client.request("POST", attempt_url + "save", [
            ("csrf_token", token), ("sequence", str(sequence)), ("included", qid),
            (f"q-{qid}", str(sequence))], headers={"Accept": "application/json"})

    results = run_together(len(sequences), save)
    assert all(r[0] == 200 for r in results), [r[:1] for r in results]
    (attempt,) = attempts()
    assert attempt.answers[qid] == {"v": 32.0, "s": 32}
    saved_count = sum('"saved":["' in r[2].replace(" ", "") for r in results)
    assert attempt.revision == saved_count  # every accepted save is one write, none lost
