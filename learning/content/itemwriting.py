"""Item-writing rules: catch questions a test-wise officer can answer without the course.

Every rule is a pure function over a parsed ``QuizSet`` that returns warnings
(``content check --strict``, which CI runs, turns them into failures), each at
the ``path:line`` of the question, bank file or assessment. The thresholds are
documented in quizzes/README.md ("Item-writing rules").
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from learning.content.problems import Problem
from learning.content.questions import Question
from learning.content.quiz import QuizSet
from learning.content.testwise import key_far_longer, key_is_longest, pool, tick_all_share

MAX_KEY_LONGEST_SHARE = 0.35
MAX_TRUE_FALSE_SHARE = 0.70
MIN_TRUE_FALSE_ITEMS = 4
MAX_TICK_ALL_SHARE = 0.5
ANSWER_SHOWING = ("answers", "answers_after_last")
ALL_OR_NONE = re.compile(r"^(all|none|both|neither) of (the )?(above|these|them)\b", re.I)
NEGATIVE_WORD = re.compile(r"\b(not|except|least)\b", re.I)
BOLD = re.compile(r"(\*\*|__)(.+?)\1", re.S)
SENTENCE_END = re.compile(r"(?<=[.?!:])[\"'”’)]?\s+(?=[A-Z(\"'“‘])")
LISTED_IDS = 5
# Words that mark an option as qualified ("may") or absolute ("always"): when only the key
# is qualified, or only the key is free of absolutes, its wording gives it away.
HEDGE = re.compile(r"\b(may|might|usually|often|possibly|likely|perhaps|sometimes|can be|"
                   r"could|generally|not necessarily)\b", re.I)
ABSOLUTE = re.compile(r"\b(always|never|only|every|all|automatically|whatever|none|no one|"
                      r"nothing)\b", re.I)


def _ids(ids: list[str]) -> str:
    """The first few ids and how many more, so a message stays one readable line."""
    shown = ", ".join(ids[:LISTED_IDS])
    return shown + (f" and {len(ids) - LISTED_IDS} more" if len(ids) > LISTED_IDS else "")


def _warn(question: Question, message: str) -> Problem:
    return Problem(question.path, question.line, f"question '{question.id}': {message}",
                   "warning")


def _gradable(quizzes: QuizSet) -> list[Question]:
    return [part for q in quizzes.questions for part in q.gradable()]


def _by_file(items: list[Question]) -> dict[str, list[Question]]:
    files: dict[str, list[Question]] = defaultdict(list)
    for item in items:
        files[item.path].append(item)
    return files


def key_longest_banks(quizzes: QuizSet) -> list[Problem]:
    """A bank whose key is the longest option in more than 35% of its single-choice items."""
    problems = []
    for path, items in sorted(_by_file(_gradable(quizzes)).items()):
        singles = [q for q in items if q.kind == "single"]
        longest = [q.id for q in singles if key_is_longest(q)]
        if singles and len(longest) / len(singles) > MAX_KEY_LONGEST_SHARE:
            problems.append(Problem(path, 1, (
                f"the correct option is the longest (or tied) in {len(longest)} of "
                f"{len(singles)} single-choice questions ({len(longest) / len(singles):.0%}; at "
                f"most {MAX_KEY_LONGEST_SHARE:.0%}): {_ids(longest)}"), "warning"))
    return problems


def key_far_longer_items(quizzes: QuizSet) -> list[Problem]:
    """A single-choice key far longer than every distractor gives itself away."""
    problems = []
    for q in _gradable(quizzes):
        if q.kind == "single" and key_far_longer(q):
            key = max(len(c.text) for c in q.spec["options"] if c.correct)
            other = max(len(c.text) for c in q.spec["options"] if not c.correct)
            problems.append(_warn(q, f"the correct option is far longer than every distractor "
                                     f"({key} characters against at most {other})"))
    return problems


def all_or_none_options(quizzes: QuizSet) -> list[Problem]:
    """'All of the above' and 'none of the above' reward test-wiseness, not knowledge."""
    problems = []
    for q in _gradable(quizzes):
        for option in q.spec.get("options", ()) if q.kind in ("single", "multiple") else ():
            if ALL_OR_NONE.match(option.text.strip()):
                problems.append(_warn(q, f"option '{option.text}' is an 'all/none of the above' "
                                         "option: write a real option instead"))
    return problems


def question_sentence(prompt: str) -> str:
    """The last sentence of a prompt: the question itself, after any situation it describes."""
    return SENTENCE_END.split(" ".join(prompt.split()))[-1]


def negative_stems(quizzes: QuizSet) -> list[Problem]:
    """A 'not', 'except' or 'least' in the question sentence of a choice question, neither
    **bold** nor in CAPITALS, is easily missed."""
    problems = []
    for q in _gradable(quizzes):
        if q.kind not in ("single", "multiple"):
            continue
        stem = question_sentence(BOLD.sub(" ", q.prompt))
        for match in NEGATIVE_WORD.finditer(stem):
            word = match.group(1)
            if word.isupper() or (word.lower() == "least"
                                  and stem[:match.start()].lower().endswith("at ")):
                continue
            problems.append(_warn(q, f"the negative word '{word}' in the question is not "
                                     "emphasised: write it in **bold** or CAPITALS, or ask the "
                                     "question positively"))
            break
    return problems


def true_false_balance(quizzes: QuizSet) -> list[Problem]:
    """A true/false bank more than 70% one way rewards always answering the same."""
    problems = []
    for path, items in sorted(_by_file(_gradable(quizzes)).items()):
        answers = [q.spec["answer"] for q in items if q.kind == "true_false"]
        if len(answers) < MIN_TRUE_FALSE_ITEMS:
            continue
        true = sum(answers)
        majority, word = (true, "true") if true >= len(answers) - true else \
            (len(answers) - true, "false")
        if majority / len(answers) > MAX_TRUE_FALSE_SHARE:
            problems.append(Problem(path, 1, (
                f"{majority} of {len(answers)} true/false questions are {word} "
                f"({majority / len(answers):.0%}; at most {MAX_TRUE_FALSE_SHARE:.0%} either way)"),
                "warning"))
    return problems


def tick_all_items(quizzes: QuizSet) -> list[Problem]:
    """A multiple-response item where ticking everything earns more than half the points."""
    problems = []
    for q in _gradable(quizzes):
        if q.kind == "multiple" and tick_all_share(q) > MAX_TICK_ALL_SHARE:
            problems.append(_warn(q, f"ticking every option earns {tick_all_share(q):.0%} of the "
                                     f"points (at most {MAX_TICK_ALL_SHARE:.0%}): add plausible "
                                     "wrong options"))
    return problems


def wording_cue(question: Question) -> str | None:
    """'hedged' or 'absolute' when the key alone is qualified, or alone free of absolutes
    (at least two distractors); None otherwise."""
    key = [c.text for c in question.spec["options"] if c.correct]
    others = [c.text for c in question.spec["options"] if not c.correct]
    if len(key) != 1 or len(others) < 2:
        return None
    if HEDGE.search(key[0]) and not any(HEDGE.search(text) for text in others):
        return "hedged"
    if not ABSOLUTE.search(key[0]) and all(ABSOLUTE.search(text) for text in others):
        return "absolute"
    return None


def wording_cue_items(quizzes: QuizSet) -> list[Problem]:
    """In what a final can draw, a single-choice key marked out by its wording: the only
    option saying "may" or "usually", or the only one without "always", "never", "only"."""
    problems = []
    drawable = {part.id: part for final in quizzes.assessments if final.final
                for top in pool(quizzes, final) for part in top.gradable()}
    for q in drawable.values():
        cue = wording_cue(q) if q.kind == "single" else None
        if cue == "hedged":
            problems.append(_warn(q, "the correct option is the only one that is qualified "
                                     "('may', 'usually'...): qualify a distractor too"))
        elif cue == "absolute":
            problems.append(_warn(q, "every distractor says 'always', 'never', 'only' or the "
                                     "like and the correct option does not: give a distractor "
                                     "a qualified form too"))
    return problems


def answer_showing_checks(quizzes: QuizSet) -> list[Problem]:
    """A knowledge check that shows answers must not be able to draw a final's questions."""
    problems = []
    finals = [a for a in quizzes.assessments if a.final]
    for check in quizzes.assessments:
        if check.final or check.review not in ANSWER_SHOWING:
            continue
        check_ids = {q.id for q in pool(quizzes, check)}
        for final in finals:
            shared = [q.id for q in pool(quizzes, final) if q.id in check_ids]
            if shared:
                problems.append(Problem(check.path, check.line, (
                    f"this knowledge check shows answers (review: {check.review}) and can draw "
                    f"{len(shared)} question(s) the final '{final.slug}' can draw: "
                    f"{_ids(shared)}"), "warning"))
    return problems


RULES: tuple[Callable[[QuizSet], list[Problem]], ...] = (
    key_longest_banks, key_far_longer_items, all_or_none_options, negative_stems,
    true_false_balance, tick_all_items, answer_showing_checks, wording_cue_items,
)


def check_item_writing(quizzes: QuizSet) -> list[Problem]:
    """Every item-writing warning for a course's questions and assessments."""
    return [problem for rule in RULES for problem in rule(quizzes)]
