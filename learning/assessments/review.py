"""Which questions of an attempt have an answer, for the navigator and the review page.

Only whether an answer was saved is looked at, never whether it is right, so
nothing here can reveal a correct answer before grading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from learning.content.questions import Question


@dataclass(frozen=True)
class Numbered:
    """A gradable question with its number on the page and whether it has an answer."""

    number: int
    question: Question
    answered: bool


def has_answer(value: Any) -> bool:
    """True when a saved value holds an answer (an empty choice, list or map does not)."""
    if value is None or value == "":
        return False
    if isinstance(value, Mapping):
        return any(has_answer(v) for v in value.values())
    if isinstance(value, list | tuple | set):
        return len(value) > 0
    return True


def numbered(questions: list[Question], saved: Mapping[str, Any]) -> list[Numbered]:
    """Every gradable question (scenario parts included) in page order, numbered from 1."""
    parts = [part for question in questions for part in question.gradable()]
    return [Numbered(n, part, has_answer(saved.get(part.id)))
            for n, part in enumerate(parts, start=1)]
