"""Item-writing rules of ``content check``, on fixture banks: every warning with its path:line."""

from __future__ import annotations

import random
from datetime import date

import pytest

from learning.content import load_catalogue
from learning.content.kinds import QUESTION_KINDS
from learning.content.kinds.choice import Choice
from learning.content.questions import Question
from learning.content.testwise import expected_testwise, key_far_longer, nonreader_share, pool
from tests.conftest import FIXTURE_CONTENT, FIXTURES

ITEMWRITING = FIXTURES / "itemwriting"
TODAY = date(2026, 3, 1)
NEGATIVE = ("the negative word '{}' in the question is not emphasised: write it in **bold** or "
            "CAPITALS, or ask the question positively")


@pytest.fixture(scope="module")
def course():
    return load_catalogue(ITEMWRITING / "courses", ITEMWRITING / "quizzes", today=TODAY).courses[0]


def quiz_messages() -> list[str]:
    catalogue = load_catalogue(ITEMWRITING / "courses", ITEMWRITING / "quizzes", today=TODAY)
    return [str(p) for p in catalogue.problems if p.path.startswith("quizzes/")]


def test_every_rule_reports_at_its_line_and_nothing_else():
    q = "quizzes/iw"
    assert quiz_messages() == [
        f"{q}/check-open.yaml:3: warning: this knowledge check shows answers (review: "
        "answers_after_last) and can draw 6 question(s) the final 'final' can draw: tf-0, tf-1, "
        "tf-2, tf-3, tf-4 and 1 more",
        f"{q}/flaws.yaml:2: warning: question 'all-above': option 'All of the above' is an "
        "'all/none of the above' option: write a real option instead",
        f"{q}/flaws.yaml:12: warning: question 'none-these': option 'None of these' is an "
        "'all/none of the above' option: write a real option instead",
        f"{q}/flaws.yaml:22: warning: question 'lower-not': " + NEGATIVE.format("not"),
        f"{q}/flaws.yaml:33: warning: question 'lower-except': " + NEGATIVE.format("except"),
        f"{q}/flaws.yaml:43: warning: question 'tick-all': ticking every option earns 67% of the "
        "points (at most 50%): add plausible wrong options",
        f"{q}/flaws.yaml:54: warning: question 'hedged-key': the correct option is the only one "
        "that is qualified ('may', 'usually'...): qualify a distractor too",
        f"{q}/flaws.yaml:64: warning: question 'absolute-others': every distractor says 'always', "
        "'never', 'only' or the like and the correct option does not: give a distractor a "
        "qualified form too",
        f"{q}/longest.yaml:1: warning: the correct option is the longest (or tied) in 2 of 3 "
        "single-choice questions (67%; at most 35%): long-key, tied-key",
        f"{q}/longest.yaml:2: warning: question 'long-key': the correct option is far longer "
        "than every distractor (86 characters against at most 20)",
        f"{q}/truefalse.yaml:1: warning: 5 of 6 true/false questions are true (83%; at most 70% "
        "either way)",
    ]
    # Not flagged: absolute-where-the-law-is (the key is absolute too, as the law is),
    # balanced.yaml (key longest in 1 of 3 = 33%, "at least", **not**, NOT, a
    # "not" before the question sentence, tick-all = exactly 50%), truefalse-few.yaml (3 items),
    # check-scores.yaml (shows scores only) and check-own.yaml (its own questions).


def test_warnings_fail_the_strict_check_only(course):
    catalogue = load_catalogue(ITEMWRITING / "courses", ITEMWRITING / "quizzes", today=TODAY)
    assert {p.severity for p in catalogue.problems} == {"warning"}
    assert catalogue.courses and not catalogue.failed() and catalogue.failed(strict=True)


def _single(key: str, *others: str) -> Question:
    options = (Choice("k", key, True), *(Choice(f"o{n}", t) for n, t in enumerate(others)))
    return Question("q", "single", ("t",), 1, "?", "", (), {"options": options}, "p", 1)


@pytest.mark.parametrize("key,other,flagged", [
    (40, 20, True),    # 40 > 26 and 20 characters longer
    (39, 20, False),   # only 19 characters longer
    (100, 80, False),  # 20 longer but not 1.3 times
    (105, 80, True),
])
def test_far_longer_needs_both_ratio_and_margin(key, other, flagged):
    assert key_far_longer(_single("k" * key, "o" * other, "x")) is flagged


def test_testwise_expected_score_of_the_final_pool(course):
    final = course.quizzes.assessment("final")
    # longest 1 + 1/2 + 0; balanced 1/2 + 0 + 0 + 1/2 (tick all: 2 right, 1 wrong);
    # flaws 0 + 0 + 0 + 0 + 2/3 + 0 + 0 + 0 (the wording-cue items' keys are not the
    # longest); true/false 5 true of 6: 5. All 21 items worth 1 point.
    assert expected_testwise(pool(course.quizzes, final)) == pytest.approx(
        (1 + 0.5 + 0.5 + 0.5 + 2 / 3 + 5) / 21)


def test_testwise_guessing_matches_the_real_grading():
    bank = load_catalogue(FIXTURE_CONTENT / "courses", FIXTURE_CONTENT / "quizzes"
                          ).courses[0].quizzes.by_id()
    rng = random.Random(7)
    notices, peace = bank["notices"], bank["peace"]
    rights = [key for key, _ in notices.spec["rights"]]
    items = [key for key, _ in peace.spec["items"]]
    runs = 20000
    matching = sum(QUESTION_KINDS["matching"].grade(
        notices, {left: rng.choice(rights) for left, _t, _r in notices.spec["pairs"]})
        for _ in range(runs)) / runs
    ordering = sum(QUESTION_KINDS["ordering"].grade(peace, rng.sample(items, len(items)))
                   for _ in range(runs)) / runs
    assert nonreader_share(notices) == pytest.approx(1 / 4) == pytest.approx(matching, abs=0.01)
    assert nonreader_share(peace) == pytest.approx(1 / 5) == pytest.approx(ordering, abs=0.01)
    assert nonreader_share(bank["recovery-days"]) == nonreader_share(bank["protocol-city"]) == 0
    assert nonreader_share(bank["smuggling-ends"]) == 1  # "true" is right


def test_strict_cli_fails_on_item_writing_warnings(app):
    app.config.update(COURSES_DIR=str(ITEMWRITING / "courses"),
                      QUIZZES_DIR=str(ITEMWRITING / "quizzes"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "check", "--strict"])
    assert result.exit_code == 1
    assert ("quizzes/iw/longest.yaml:2: warning: question 'long-key': the correct option is far "
            "longer than every distractor") in result.output
    assert runner.invoke(args=["content", "check"]).exit_code == 0
