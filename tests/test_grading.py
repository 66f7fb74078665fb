"""Every question kind, graded by the one pure grading function, edge cases included."""

import random

import pytest
from werkzeug.datastructures import MultiDict

from learning.content import load_catalogue
from learning.content.grading import grade_attempt
from learning.content.kinds.base import AnswerError
from learning.content.kinds.values import parse_number
from tests.conftest import FIXTURE_CONTENT


@pytest.fixture(scope="module")
def questions():
    course = load_catalogue(FIXTURE_CONTENT / "courses", FIXTURE_CONTENT / "quizzes").courses[0]
    return course.quizzes.by_id()


def answer(question, **fields):
    """Parse form fields the way the attempt page posts them."""
    form = MultiDict()
    for name, value in fields.items():
        key = f"q-{question.id}" + ("" if name == "value" else f"-{name}")
        for item in value if isinstance(value, list) else [value]:
            form.add(key, item)
    return question.handler.parse_answer(question, form)


def grade(question, value):
    return question.handler.grade(question, value)


def key_of(question, text):
    return next(c.key for c in question.spec["options"] if c.text == text)


def test_single_choice(questions):
    q = questions["companion-holds-passport"]
    assert grade(q, answer(q, value=key_of(q, "Refer for a second-line check."))) == 1
    assert grade(q, answer(q, value=key_of(q, "Wave them through."))) == 0
    assert grade(q, answer(q)) == 0
    with pytest.raises(AnswerError):
        answer(q, value="o-not-an-option")


def test_multiple_response_partial_credit(questions):
    q = questions["elements"]
    act, means, border, purpose = (key_of(q, t) for t in (
        "An act", "A means", "A border crossing", "A purpose of exploitation"))
    assert grade(q, answer(q, value=[act, means, purpose])) == 1
    assert grade(q, answer(q, value=[act, means])) == pytest.approx(2 / 3)
    assert grade(q, answer(q, value=[act, means, purpose, border])) == pytest.approx(2 / 3)
    assert grade(q, answer(q, value=[act, border])) == 0
    assert grade(q, answer(q, value=[border])) == 0  # never below zero
    assert answer(q, value=[means, act, act]) == sorted([act, means])  # order and repeats
    result = grade_attempt([q], {"elements": [act, means]})
    assert (result.score, result.max_score) == (pytest.approx(4 / 3, abs=1e-3), 2)


def test_true_false(questions):
    q = questions["smuggling-ends"]
    assert grade(q, answer(q, value="true")) == 1
    assert grade(q, answer(q, value="false")) == 0
    assert grade(q, None) == 0
    with pytest.raises(AnswerError):
        answer(q, value="maybe")


def test_matching_partial_credit(questions):
    q = questions["notices"]
    rights = dict((text, key) for key, text in q.spec["rights"])
    lefts = {text: key for key, text, _ in q.spec["pairs"]}
    perfect = {lefts["A missing child"]: rights["Yellow"], lefts["A wanted person"]: rights["Red"],
               lefts["A concealment method"]: rights["Purple"]}
    assert grade(q, answer(q, **perfect)) == 1
    two = dict(perfect, **{lefts["A concealment method"]: rights["Green"]})
    assert grade(q, answer(q, **two)) == pytest.approx(2 / 3)
    assert grade(q, answer(q, **{lefts["A missing child"]: rights["Yellow"]})) == \
        pytest.approx(1 / 3)
    with pytest.raises(AnswerError):
        answer(q, **{lefts["A missing child"]: "r-unknown"})


def test_ordering_partial_credit_and_bad_positions(questions):
    q = questions["peace"]
    keys = [key for key, _ in q.spec["items"]]  # correct order
    assert grade(q, answer(q, **{k: str(i + 1) for i, k in enumerate(keys)})) == 1
    swapped = {keys[0]: "2", keys[1]: "1", keys[2]: "3", keys[3]: "4", keys[4]: "5"}
    assert grade(q, answer(q, **swapped)) == pytest.approx(3 / 5)
    assert grade(q, answer(q, **{keys[0]: "1", keys[1]: "2"})) == 0  # incomplete orders score 0
    with pytest.raises(AnswerError, match="different position"):
        answer(q, **{keys[0]: "1", keys[1]: "1"})
    with pytest.raises(AnswerError):
        answer(q, **{keys[0]: "9"})


def test_ordering_view_is_never_already_solved(questions):
    q = questions["peace"]
    correct = list(q.spec["items"])
    for seed in range(200):
        assert q.handler.view(q, random.Random(seed))["items"] != correct


@pytest.mark.parametrize("given,points", [
    ("30", 1), ("30.5", 1), ("29.5", 1), ("30,5", 1), (" 30 ", 1),
    ("30.51", 0), ("29.49", 0), ("31", 0), ("-30", 0),
])
def test_numeric_tolerance_edges(questions, given, points):
    q = questions["recovery-days"]  # answer 30, tolerance 0.5
    assert grade(q, answer(q, value=given)) == points


@pytest.mark.parametrize("text", ["thirty", "1e400", "nan", "inf", "3" * 60])
def test_numeric_rejects_non_numbers(questions, text):
    with pytest.raises(AnswerError):
        answer(questions["recovery-days"], value=text)


def test_parse_number_forms():
    assert parse_number("1 000") == 1000
    assert parse_number("2,5") == 2.5
    assert parse_number("0.1") + parse_number("0.2") == pytest.approx(0.3)


@pytest.mark.parametrize("given,points", [
    ("Palermo", 1), ("palermo", 1), ("  PALERMO ", 1), ("Pal ermo", 0), ("Vienna", 0), ("", 0),
])
def test_short_text_case_and_whitespace(questions, given, points):
    q = questions["protocol-city"]
    assert grade(q, answer(q, value=given)) == points


def test_short_text_case_sensitive_and_inner_spaces():
    from learning.content.kinds.values import ShortText
    from learning.content.questions import Question

    q = Question("q", "short_text", ("t",), 1, "p", "e", ("s",),
                 {"accept": ("New  York",), "case_sensitive": True}, "x", 1)
    assert ShortText.grade(q, "New York") == 1
    assert ShortText.grade(q, " New   York ") == 1
    assert ShortText.grade(q, "new york") == 0


def test_scenario_parts_are_graded_separately(questions):
    scenario = questions["airport-case"]
    first, second = scenario.parts
    right = key_of(first, "Speak to her alone with a neutral interpreter")
    result = grade_attempt([scenario], {first.id: right, second.id: False})
    assert (result.score, result.max_score) == (1, 2)
    assert [(i.question_id, i.earned) for i in result.items] == [
        ("airport-first-step", 1), ("airport-child", 0)]
    assert result.percent == 50 and not result.passed(80) and result.passed(50)


def test_grade_of_a_whole_attempt(questions):
    everything = [questions[q] for q in ("companion-holds-passport", "elements", "peace")]
    result = grade_attempt(everything, {})
    assert (result.score, result.max_score, result.percent) == (0, 4, 0)
