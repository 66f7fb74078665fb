"""What every question kind shares: the base class, answer errors and form reading.

A kind is a small class of class methods; ``learning.content.kinds.QUESTION_KINDS``
maps each ``kind:`` name to its class.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from learning.content.frontmatter import LocatedDict
from learning.content.problems import Problem
from learning.content.schema import Field

if TYPE_CHECKING:
    from learning.content.questions import Question


class AnswerError(ValueError):
    """An answer that does not fit its question (unknown option, not a number...)."""


def option_key(prefix: str, question_id: str, text: str) -> str:
    """A stable key for an option that says nothing about whether it is correct."""
    return prefix + hashlib.sha256(f"{question_id}\0{text}".encode()).hexdigest()[:8]


class QuestionKind:
    """Base class: subclasses declare their extra fields and implement the methods."""

    name: ClassVar[str]
    label: ClassVar[str]
    schema: ClassVar[dict[str, Field]] = {}

    @classmethod
    def parse_spec(cls, values: dict, raw: LocatedDict, qid: str, path: str,
                   problems: list[Problem]) -> dict[str, Any] | None:
        """Kind-specific validation; returns the spec or None when invalid."""
        raise NotImplementedError

    @classmethod
    def view(cls, question: Question, rng: random.Random) -> dict[str, Any]:
        """What the learner's page needs to show the question: never the answer."""
        return {}

    @classmethod
    def parse_answer(cls, question: Question, form: Mapping[str, Any]) -> Any:
        """The answer in the submitted form fields, normalised; None when unanswered."""
        raise NotImplementedError

    @classmethod
    def grade(cls, question: Question, answer: Any) -> float:
        """Share of the points earned, from 0 to 1."""
        raise NotImplementedError

    @classmethod
    def field_name(cls, question: Question, suffix: str = "") -> str:
        """The form field that carries the answer (or one part of it)."""
        return f"q-{question.id}" + (f"-{suffix}" if suffix else "")


def form_value(form: Mapping[str, Any], name: str) -> str | None:
    """The trimmed value of one form field; None when missing or blank."""
    value = form.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def form_list(form: Mapping[str, Any], name: str) -> list[str]:
    """The non-blank values of a form field that may repeat (check boxes)."""
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if getlist else form.get(name, [])
    if isinstance(values, str):
        values = [values]
    return [str(v) for v in values if str(v).strip()]
