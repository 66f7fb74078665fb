"""Item statistics: facility, discrimination, distractor counts; trainers only."""

import pytest

from learning.assessments.stats import (
    SubmittedAnswerSheet,
    compute_item_stats,
    cronbach_alpha,
    summarise_final,
)
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


def test_kr20_on_a_hand_computed_matrix():
    rows = ["1111", "1110", "1100", "1000", "0000"]
    sheets = [{f"i{n}": float(c) for n, c in enumerate(row)} for row in rows]
    # p = .8 .6 .4 .2, sum pq = .8; totals 4 3 2 1 0, variance 2; KR-20 = 4/3 (1 - .8/2)
    assert cronbach_alpha(sheets) == pytest.approx(0.8)


def test_alpha_on_fractional_scores_and_when_it_is_undefined():
    sheets = [{"x": 1, "y": 1}, {"x": 0.5, "y": 0.5}, {"x": 0, "y": 0.5}]
    # var x = 1/6, var y = 1/18, var totals = 7/18: alpha = 2 (1 - (4/18) / (7/18)) = 6/7
    assert cronbach_alpha(sheets) == pytest.approx(6 / 7)
    assert cronbach_alpha(sheets[:1]) is None  # one attempt
    assert cronbach_alpha([{"x": 1, "y": 1}, {"x": 1, "y": 1}]) is None  # totals never vary


def test_alpha_when_attempts_draw_different_items():
    # Items a, b, c; each attempt drew two. var a (1, 0) = 1/4, var b (1, 1) = 0,
    # var c (0, 1) = 1/4; item-variance sums per attempt 1/4, 1/2, 1/4: mean 1/3.
    # Totals 2, 0, 2: variance 8/9. alpha = 2 (1 - (1/3) / (8/9)) = 5/4.
    sheets = [{"a": 1, "b": 1}, {"a": 0, "c": 0}, {"b": 1, "c": 1}]
    assert cronbach_alpha(sheets) == pytest.approx(1.25)


def test_final_summary_testwise_score_and_unpicked_distractors(bank):
    course = load_catalogue(FIXTURE_CONTENT / "courses", FIXTURE_CONTENT / "quizzes").courses[0]
    final = course.quizzes.assessment("final")
    q = bank["companion-holds-passport"]
    refer = q.spec["options"][1].key
    sheets = [SubmittedAnswerSheet(n * 10, {q.id: float(n % 2)}, {q.id: refer})
              for n in range(10)]
    stats = compute_item_stats(course.quizzes.questions, sheets)
    summary = summarise_final(course.quizzes, final, [s.earned for s in sheets], stats)
    assert summary.attempts == 10 and summary.alpha is None  # one item per attempt
    assert summary.unused_distractors == (
        (q.id, "Wave them through."),
        (q.id, "Arrest the companion for holding another person's passport."))
    # companion 0, elements 2 x 1/3, smuggling-ends 1, notices 1/4, peace 1/5, numeric 0,
    # short text 0, airport-first-step 0 (a distractor is longer), airport-child 1: of 10.
    assert summary.testwise == pytest.approx((2 / 3 + 1 + 0.25 + 0.2 + 1) / 10)


def test_item_statistics_page_shows_final_figures(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    attempt_url = client.post("/courses/field-basics/assessments/final/").headers["Location"]
    client.post(attempt_url + "submit", data={"sequence": "1"})
    client.post("/logout")
    login_as(make_user("trainer"))
    html = client.get("/author/courses/field-basics/items/").get_data(as_text=True)
    assert "Reliability (Cronbach's alpha" in html
    assert "not enough attempts yet" in html
    assert "<dd>31% <span" in html  # the test-wise score of the final's pool
