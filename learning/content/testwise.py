"""What a test-wise officer who has not read the course would score, from the bank alone.

The non-reader picks the longest option (a random one among those tied), ticks
every box, answers "true", and guesses matching and ordering at random;
numeric and short-text answers cannot be guessed. Used by ``content check``
and by the item statistics trainers see.
"""

from __future__ import annotations

from collections.abc import Iterable

from learning.content.kinds import QUESTION_KINDS
from learning.content.kinds.choice import Choice
from learning.content.questions import Question
from learning.content.quiz import Assessment, QuizSet


def key_and_distractors(question: Question) -> tuple[Choice, list[Choice]]:
    """The correct option of a single-choice question and its wrong ones."""
    options = question.spec["options"]
    return next(c for c in options if c.correct), [c for c in options if not c.correct]


def key_is_longest(question: Question) -> bool:
    """True when the key is at least as long as every distractor (ties count)."""
    key, others = key_and_distractors(question)
    return not others or len(key.text) >= max(len(c.text) for c in others)


def key_far_longer(question: Question) -> bool:
    """True when the key is over 1.3 times the longest distractor and 20 characters longer."""
    key, others = key_and_distractors(question)
    if not others:
        return False
    longest = max(len(c.text) for c in others)
    return len(key.text) > 1.3 * longest and len(key.text) - longest >= 20


def tick_all_share(question: Question) -> float:
    """Share of the points a multiple-response question gives for ticking every option."""
    return QUESTION_KINDS["multiple"].grade(question, [c.key for c in question.spec["options"]])


def nonreader_share(question: Question) -> float:
    """Expected share of the points a test-wise non-reader earns on one gradable question."""
    if question.kind == "single":
        options = question.spec["options"]
        longest = max(len(c.text) for c in options)
        tied = [c for c in options if len(c.text) == longest]
        return sum(c.correct for c in tied) / len(tied)
    if question.kind == "multiple":
        return tick_all_share(question)
    if question.kind == "true_false":
        return 1.0 if question.spec["answer"] is True else 0.0
    if question.kind == "matching":  # each left item finds its partner with chance 1/rights
        return 1 / len(question.spec["rights"])
    if question.kind == "ordering":  # a random order puts each item in place with chance 1/n
        return 1 / len(question.spec["items"])
    return 0.0


def pool(quizzes: QuizSet, assessment: Assessment) -> list[Question]:
    """Every question (top level) an assessment can draw."""
    tags = {rule.tag for rule in assessment.draw}
    return [q for q in quizzes.questions if tags & set(q.tags)]


def expected_testwise(questions: Iterable[Question]) -> float:
    """Points-weighted mean test-wise score over the gradable questions of a pool (0 to 1)."""
    items = [part for q in questions for part in q.gradable()]
    points = sum(q.points for q in items)
    return sum(nonreader_share(q) * q.points for q in items) / points if points else 0.0
