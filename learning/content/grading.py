"""Grading a whole attempt: each gradable question's share of points, summed.

Pure: questions and saved answers in, a ``Grade`` out; each kind grades its own
answers (``learning.content.kinds``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from learning.content.questions import Question


@dataclass(frozen=True)
class GradedQuestion:
    """One gradable question's result inside an attempt."""

    question_id: str
    points: int
    earned: float


@dataclass(frozen=True)
class Grade:
    """The server's grading of a whole attempt."""

    score: float
    max_score: int
    items: tuple[GradedQuestion, ...] = field(default=())

    @property
    def percent(self) -> float:
        """The score as a percentage of the maximum, to two decimals."""
        return round(100 * self.score / self.max_score, 2) if self.max_score else 0.0

    def passed(self, pass_mark: int) -> bool:
        """Whether the percentage reaches ``pass_mark`` (rounding never fails a pass)."""
        return self.percent + 1e-9 >= pass_mark


def grade_attempt(questions: list[Question], answers: Mapping[str, Any]) -> Grade:
    """Grade saved answers against the questions drawn for an attempt (pure)."""
    items = []
    for question in questions:
        for part in question.gradable():
            fraction = part.handler.grade(part, answers.get(part.id))
            items.append(GradedQuestion(part.id, part.points, round(fraction * part.points, 4)))
    score = round(sum(item.earned for item in items), 4)
    return Grade(score, sum(item.points for item in items), tuple(items))
