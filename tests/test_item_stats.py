"""Item statistics: facility, discrimination, distractor counts; trainers only."""

import pytest

from learning.assessments.stats import SubmittedAnswerSheet, compute_item_stats
from learning.content import load_catalogue
from tests.conftest import FIXTURE_CONTENT


@pytest.fixture(scope="module")
def bank():
    course = load_catalogue(FIXTURE_CONTENT / "courses", FIXTURE_CONTENT / "quizzes").courses[0]
    return course.quizzes.by_id()


def test_facility_discrimination_and_distractors(bank):
    q = bank["companion-holds-passport"]
    wave, refer, arrest = (c.key for c in q.spec["options"])
    sheets = []
    # 20 attempts: the strongest 10 answer right, the weakest 10 pick "wave" or "arrest".
    for n in range(20):
        strong = n >= 10
        choice = refer if strong else (wave if n % 2 else arrest)
        sheets.append(SubmittedAnswerSheet(percent=50 + n * 2, earned={q.id: 1.0 if strong else 0},
                                           answers={q.id: choice}))
    (stats,) = compute_item_stats([q], sheets)
    assert stats.attempts == 20
    assert stats.facility == pytest.approx(0.5)
    assert stats.discrimination == pytest.approx(1.0)  # top 5 all right, bottom 5 all wrong
    assert stats.option_counts == {refer: 10, wave: 5, arrest: 5}
    assert stats.flags == []


def test_flags_for_weak_items(bank):
    q = bank["companion-holds-passport"]
    refer = q.spec["options"][1].key
    sheets = [SubmittedAnswerSheet(percent=n, earned={q.id: 1.0}, answers={q.id: refer})
              for n in range(12)]
    (stats,) = compute_item_stats([q], sheets)
    assert stats.facility == 1 and stats.discrimination == 0
    assert stats.flags == ["very easy", "does not separate strong from weak",
                           "a distractor nobody picks"]


def test_few_attempts_give_no_discrimination_and_partial_credit_counts(bank):
    q = bank["elements"]  # 2 points
    sheets = [SubmittedAnswerSheet(80, {q.id: 2.0}, {q.id: []}),
              SubmittedAnswerSheet(40, {q.id: 1.0}, {q.id: []})]
    (stats,) = compute_item_stats([q], sheets)
    assert stats.facility == pytest.approx(0.75) and stats.discrimination is None


def test_scenario_parts_get_their_own_rows(bank):
    stats = compute_item_stats([bank["airport-case"]], [])
    assert [s.question.id for s in stats] == ["airport-first-step", "airport-child"]
    assert all(s.attempts == 0 and s.facility is None for s in stats)


def test_item_statistics_page(client, synced, make_user, login_as):
    officer = make_user("officer")
    login_as(officer)
    attempt_url = client.post("/courses/field-basics/assessments/final/").headers["Location"]
    client.post(attempt_url + "submit", data={"sequence": "1"})
    client.post("/logout")
    assert client.get("/courses/field-basics/assessments/final/").status_code == 302

    login_as(make_user("officer"))
    assert client.get("/author/courses/field-basics/items/").status_code == 403
    client.post("/logout")
    login_as(make_user("trainer"))
    html = client.get("/author/courses/field-basics/items/").get_data(as_text=True)
    assert "<code>companion-holds-passport</code>" in html
    assert "<td>1</td>" in html  # one attempt drew each question
    assert client.get("/author/courses/nope/items/").status_code == 404
    assert 'href="/author/courses/field-basics/items/"' in client.get("/author/").get_data(
        as_text=True)
