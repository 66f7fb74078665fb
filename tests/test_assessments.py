"""Taking an assessment through the app: no leaks, nothing lost, graded exactly once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from learning.assessments.models import Attempt
from learning.assessments.service import attempt_questions
from learning.extensions import db
from learning.timeutil import utcnow

FINAL = "/courses/field-basics/assessments/final/"
SECRETS = ["SECRET-EXPLANATION", "WAVE-FEEDBACK", "REFER-FEEDBACK", "ARREST-FEEDBACK",
           "correct", "Act, means and purpose", "Palermo", "Yellow, red, purple"]


@pytest.fixture
def officer(make_user, login_as, synced):
    user = make_user("officer")
    login_as(user)
    return user


def start(client, url=FINAL) -> tuple[int, str]:
    response = client.post(url)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    attempt_id = int(re.search(r"/attempts/(\d+)/", location).group(1))
    return attempt_id, location


def attempt_row(attempt_id: int) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


def correct_form(attempt: Attempt) -> dict:
    """Form fields answering every drawn question correctly."""
    form = {"sequence": "1000"}
    for question in attempt_questions(attempt):
        for q in question.gradable():
            name = f"q-{q.id}"
            form.setdefault("included", []).append(q.id)
            if q.kind == "single":
                form[name] = next(c.key for c in q.spec["options"] if c.correct)
            elif q.kind == "multiple":
                form[name] = [c.key for c in q.spec["options"] if c.correct]
            elif q.kind == "true_false":
                form[name] = "true" if q.spec["answer"] else "false"
            elif q.kind == "matching":
                for left, _text, right in q.spec["pairs"]:
                    form[f"{name}-{left}"] = right
            elif q.kind == "ordering":
                for position, (key, _text) in enumerate(q.spec["items"], start=1):
                    form[f"{name}-{key}"] = str(position)
            elif q.kind == "numeric":
                form[name] = "30"
            elif q.kind == "short_text":
                form[name] = "palermo"
    return form


def test_course_page_lists_its_assessments(client, officer):
    html = client.get("/courses/field-basics/").get_data(as_text=True)
    final = html.index('href="/courses/field-basics/assessments/final/">Final assessment')
    check = html.index('href="/courses/field-basics/assessments/check-basics/"')
    assert final < check and "counts towards completion" in html


def test_start_page_describes_the_rules(client, officer):
    html = client.get(FINAL).get_data(as_text=True)
    for text in ("9 questions", "Time limit: 20 minutes", "Pass mark: 80%",
                 "Attempts left: 2 of 2", "Waiting time between attempts: 30 minutes"):
        assert text in html


def test_attempt_page_never_contains_answers_or_feedback(client, officer):
    attempt_id, location = start(client)
    response = client.get(location)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Question 9" in html
    for secret in SECRETS:
        assert secret not in html, secret
    # Option values are opaque keys, not their correctness or position.
    values = re.findall(r'name="q-companion-holds-passport" value="([^"]+)"', html)
    assert len(values) == 3 and all(re.fullmatch(r"o[0-9a-f]{8}", v) for v in values)
    # The save endpoint's JSON answer leaks nothing either.
    form = {"sequence": "5", "included": "smuggling-ends", "q-smuggling-ends": "false"}
    body = client.post(location + "save", data=form,
                       headers={"Accept": "application/json"}).get_data(as_text=True)
    assert body.strip() and not any(secret in body for secret in SECRETS)


def test_same_attempt_shows_the_same_order(client, officer):
    _attempt_id, location = start(client)
    first = client.get(location).get_data(as_text=True)
    second = client.get(location).get_data(as_text=True)
    strip = re.compile(r'(name="(csrf_token|sequence)" value|data-sequence)="[^"]*"')
    assert strip.sub("", first) == strip.sub("", second)
    assert start(client)[1] == location  # starting again resumes the open attempt


def test_saved_answers_survive_a_reload_and_are_graded(client, officer):
    attempt_id, location = start(client)
    attempt = attempt_row(attempt_id)
    form = correct_form(attempt)
    response = client.post(location + "save", data=form)  # the no-JavaScript button
    assert response.status_code == 303
    html = client.get(location).get_data(as_text=True)
    assert "Your answers are saved." in html
    assert re.search(r'value="true" checked', html)
    assert 'value="palermo"' in html and 'value="30"' in html

    response = client.post(location + "submit", data={"sequence": "1001"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/result")
    attempt = attempt_row(attempt_id)
    assert attempt.status == "submitted" and attempt.passed
    assert attempt.score == attempt.max_score == 10  # 'elements' is worth 2
    assert attempt.version_id and attempt.seed and len(attempt.question_ids) == 8
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "100%" in result and "Passed" in result
    assert "SECRET-EXPLANATION" in result  # passed: the review policy now shows answers


def test_stale_save_never_overwrites_a_newer_one(client, officer):
    _attempt_id, location = start(client)
    headers = {"Accept": "application/json"}

    def save(sequence, value):
        return client.post(location + "save", headers=headers, data={
            "sequence": str(sequence), "included": "smuggling-ends",
            "q-smuggling-ends": value}).get_json()

    assert save(200, "true") == {"saved": ["smuggling-ends"], "stale": []}
    assert save(100, "false") == {"saved": [], "stale": ["smuggling-ends"]}  # arrived late
    assert attempt_row(_attempt_id).saved_values()["smuggling-ends"] is True
    assert save(300, "false")["saved"] == ["smuggling-ends"]
    assert attempt_row(_attempt_id).saved_values()["smuggling-ends"] is False


def test_submit_is_idempotent(client, officer):
    attempt_id, location = start(client)
    form = correct_form(attempt_row(attempt_id))
    client.post(location + "submit", data=form)
    first = attempt_row(attempt_id)
    wrong = dict(form, **{"q-smuggling-ends": "false", "sequence": "99999"})
    response = client.post(location + "submit", data=wrong)
    assert response.status_code == 303
    again = attempt_row(attempt_id)
    assert (again.score, again.submitted_at, again.revision) == \
        (first.score, first.submitted_at, first.revision)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1
    response = client.post(location + "save", data=wrong, headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert "already been submitted" in response.get_json()["error"]


def test_deadline_is_enforced_by_the_server(client, officer):
    attempt_id, location = start(client)
    client.post(location + "save", data={"sequence": "10", "included": "smuggling-ends",
                                         "q-smuggling-ends": "true"})
    attempt = attempt_row(attempt_id)
    attempt.deadline = utcnow() - timedelta(seconds=30)
    db.session.commit()
    late = {"sequence": "20", "included": "protocol-city", "q-protocol-city": "Palermo"}
    response = client.post(location + "save", data=late, headers={"Accept": "application/json"})
    assert response.status_code == 410
    assert "time for this attempt is up" in response.get_json()["error"]
    attempt = attempt_row(attempt_id)
    assert attempt.status == "submitted" and attempt.submitted_by == "deadline"
    assert "protocol-city" not in attempt.answers  # the late answer was refused
    assert attempt.results["smuggling-ends"] == 1  # graded on what was saved in time
    html = client.get(location, follow_redirects=True).get_data(as_text=True)
    assert "graded on the answers saved before the deadline" in html


def test_expired_attempt_is_graded_when_next_seen(client, officer):
    attempt_id, location = start(client)
    attempt = attempt_row(attempt_id)
    attempt.deadline = utcnow() - timedelta(minutes=5)
    db.session.commit()
    response = client.get(location)
    assert response.status_code == 302 and response.headers["Location"].endswith("/result")
    assert attempt_row(attempt_id).submitted_by == "deadline"


def test_attempt_limit_and_cooldown(client, officer):
    first_id, location = start(client)
    client.post(location + "submit", data={"sequence": "1"})  # nothing answered: fails
    html = client.get(FINAL).get_data(as_text=True)
    assert "You can start your next attempt at" in html and "Attempts left: 1 of 2" in html
    response = client.post(FINAL, follow_redirects=True)
    assert "after the waiting time" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1

    first = attempt_row(first_id)
    first.submitted_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    second_id, location = start(client)
    assert second_id != first_id
    client.post(location + "submit", data={"sequence": "1"})
    html = client.get(FINAL).get_data(as_text=True)
    assert "You have used every attempt at this assessment." in html
    response = client.post(FINAL, follow_redirects=True)
    assert "You have used every attempt" in response.get_data(as_text=True)


def test_review_policy_hides_answers_while_attempts_remain(client, officer):
    _attempt_id, location = start(client)
    client.post(location + "submit", data={"sequence": "1"})
    result = client.get(location + "result").get_data(as_text=True)
    assert "0%" in result and "Not passed" in result
    assert "Correct answers and feedback are shown once you pass or have no attempts left." \
        in result
    for secret in SECRETS:
        assert secret not in result


def test_review_policy_shows_answers_after_the_last_attempt(client, officer):
    first_id, location = start(client)
    client.post(location + "submit", data={"sequence": "1"})
    first = attempt_row(first_id)
    first.submitted_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    _second_id, location = start(client)
    client.post(location + "submit", data={"sequence": "1"})
    result = client.get(location + "result").get_data(as_text=True)
    assert "Why:" in result and "Source:" in result


def test_knowledge_check_shows_answers_at_once_and_is_linked_from_the_lesson(client, officer):
    lesson = client.get("/courses/field-basics/second-steps/").get_data(as_text=True)
    assert 'href="/courses/field-basics/assessments/check-basics/"' in lesson
    _id, location = start(client, "/courses/field-basics/assessments/check-basics/")
    client.post(location + "submit", data={"sequence": "1"})
    result = client.get(location + "result").get_data(as_text=True)
    assert "Why:" in result  # review: answers


@pytest.mark.parametrize("form,message", [
    ({"sequence": "5", "included": "not-a-question"}, "not in this attempt"),
    ({"included": "smuggling-ends", "q-smuggling-ends": "true"}, "save sequence"),
    ({"sequence": "-1"}, "save sequence"),
])
def test_malformed_saves_are_refused_and_change_nothing(client, officer, form, message):
    attempt_id, location = start(client)
    before = attempt_row(attempt_id).revision
    response = client.post(location + "save", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert attempt_row(attempt_id).revision == before


def test_bad_values_are_refused_and_change_nothing(client, officer):
    attempt_id, location = start(client)
    response = client.post(location + "save", headers={"Accept": "application/json"}, data={
        "sequence": "7", "included": ["recovery-days", "smuggling-ends"],
        "q-recovery-days": "thirty", "q-smuggling-ends": "true"})
    assert response.status_code == 400
    assert "Enter a number" in response.get_json()["questions"]["recovery-days"]
    assert attempt_row(attempt_id).answers == {}


def test_another_officers_attempt_is_not_found(client, officer, make_user, login_as):
    attempt_id, location = start(client)
    client.post("/logout")
    login_as(make_user("officer"))
    for method, url in [("get", location), ("post", location + "save"),
                        ("post", location + "submit"), ("get", location + "result")]:
        response = getattr(client, method)(url, data={"sequence": "9"})
        assert response.status_code == 404, (method, url)
    assert attempt_row(attempt_id).status == "open"


def test_unknown_assessments_and_unpublished_courses_are_not_found(client, officer):
    assert client.get("/courses/field-basics/assessments/nope/").status_code == 404
    assert client.post("/courses/field-basics/assessments/nope/").status_code == 404
    assert client.get("/courses/unpublished/assessments/final/").status_code == 404
    assert client.get(FINAL + "attempts/999/").status_code == 404


def test_assessment_pages_need_sign_in(client, synced):
    response = client.get(FINAL)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post(FINAL).status_code == 302


def test_passing_starts_a_new_series_of_attempts(client, officer):
    attempt_id, location = start(client)
    client.post(location + "submit", data=correct_form(attempt_row(attempt_id)))
    html = client.get(FINAL).get_data(as_text=True)
    assert "Attempts left: 2 of 2" in html  # a later recertification gets a full allowance
