"""Question kinds: parsing, the learner's view, answer parsing and grading.

Each kind is a small class in ``QUESTION_KINDS``; the loader validates ``kind``
against the same dict, so the registry is the schema. Grading is pure: it
takes a question and a parsed answer and returns the share of points earned.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from learning.content.frontmatter import LocatedDict, LocatedList
from learning.content.jurisdictions import check_codes
from learning.content.problems import Problem
from learning.content.schema import Field, check

MAX_TEXT_ANSWER = 500
QUESTION_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG = re.compile(r"^[a-z0-9-]+(?:/[a-z0-9-]+)*$")
_POSITION = re.compile(r"[0-9]{1,4}")  # ASCII: str.isdigit() also accepts "²", which int() refuses


class AnswerError(ValueError):
    """An answer that does not fit its question (unknown option, not a number...)."""


def _key(prefix: str, question_id: str, text: str) -> str:
    """A stable key for an option that says nothing about whether it is correct."""
    return prefix + hashlib.sha256(f"{question_id}\0{text}".encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Choice:
    """One option of a choice question."""

    key: str
    text: str
    correct: bool = False
    feedback: str = ""


@dataclass(frozen=True)
class Question:
    """A question of any kind; ``spec`` holds what is particular to the kind."""

    id: str
    kind: str
    tags: tuple[str, ...]
    points: int
    prompt: str
    explanation: str
    sources: tuple[str, ...]
    spec: Mapping[str, Any]
    path: str
    line: int
    parts: tuple[Question, ...] = ()  # the linked questions of a scenario
    jurisdictions: tuple[str, ...] = ()  # empty: valid everywhere; else only where named

    @property
    def handler(self) -> type[QuestionKind]:
        return QUESTION_KINDS[self.kind]

    def gradable(self) -> tuple[Question, ...]:
        """The questions that earn points: a scenario's parts, or the question itself."""
        return self.parts if self.kind == "scenario" else (self,)


COMMON_SCHEMA = {
    "id": Field("text"),
    "kind": Field("text"),
    "tags": Field("text_list", non_empty=True),
    "points": Field("int", required=False, minimum=1, maximum=100),
    "prompt": Field("text"),
    "explanation": Field("text"),
    "sources": Field("text_list", non_empty=True),
    "jurisdictions": Field("text_list", required=False, non_empty=True),
}


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
        return f"q-{question.id}" + (f"-{suffix}" if suffix else "")


def _form_value(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _form_list(form: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    values = getlist(name) if getlist else form.get(name, [])
    if isinstance(values, str):
        values = [values]
    return [str(v) for v in values if str(v).strip()]


def _parse_choices(values: dict, raw: LocatedDict, qid: str, path: str,
                   problems: list[Problem], minimum: int, maximum: int) -> tuple[Choice, ...]:
    options: LocatedList = values.get("options") or LocatedList()
    line = raw.key_lines.get("options", raw.line)
    if not minimum <= len(options) <= maximum:
        problems.append(Problem(path, line, f"question '{qid}' needs {minimum} to {maximum} "
                                            "options"))
    choices, seen = [], set()
    for option, option_line in zip(options, options.item_lines, strict=True):
        if isinstance(option, str):
            option = LocatedDict({"text": option})
            option.line, option.key_lines = option_line, {}
        found = check(option, {"text": Field("text"), "correct": Field("bool", required=False),
                               "feedback": Field("text", required=False)}, path, problems)
        if "text" not in found:
            continue
        text = str(found["text"]).strip()
        if text in seen:
            problems.append(Problem(path, option_line, f"option '{text}' appears twice"))
        seen.add(text)
        choices.append(Choice(_key("o", qid, text), text, found.get("correct", False),
                              str(found.get("feedback", "")).strip()))
    return tuple(choices)


class SingleChoice(QuestionKind):
    name, label = "single", "Single choice"
    schema = {"options": Field("mapping_list", non_empty=True)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        choices = _parse_choices(values, raw, qid, path, problems, 2, 8)
        correct = sum(c.correct for c in choices)
        if choices and correct != 1:
            problems.append(Problem(path, raw.key_lines.get("options", raw.line),
                                    f"question '{qid}' (single) must have exactly one correct "
                                    f"option, not {correct}"))
            return None
        return {"options": choices}

    @classmethod
    def view(cls, question, rng):
        options = list(question.spec["options"])
        rng.shuffle(options)
        return {"options": [(c.key, c.text) for c in options]}

    @classmethod
    def parse_answer(cls, question, form):
        value = _form_value(form, cls.field_name(question))
        if value is None:
            return None
        if value not in {c.key for c in question.spec["options"]}:
            raise AnswerError("That option is not part of this question.")
        return value

    @classmethod
    def grade(cls, question, answer):
        return 1.0 if any(c.key == answer and c.correct for c in question.spec["options"]) \
            else 0.0


class MultipleResponse(QuestionKind):
    name, label = "multiple", "Multiple response"
    schema = {"options": Field("mapping_list", non_empty=True)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        choices = _parse_choices(values, raw, qid, path, problems, 2, 10)
        if choices and not any(c.correct for c in choices):
            problems.append(Problem(path, raw.key_lines.get("options", raw.line),
                                    f"question '{qid}' (multiple) needs at least one correct "
                                    "option"))
            return None
        return {"options": choices}

    view = SingleChoice.view

    @classmethod
    def parse_answer(cls, question, form):
        values = sorted(set(_form_list(form, cls.field_name(question))))
        known = {c.key for c in question.spec["options"]}
        if any(v not in known for v in values):
            raise AnswerError("That option is not part of this question.")
        return values or None

    @classmethod
    def grade(cls, question, answer):
        """(right options chosen - wrong options chosen) / right options, floored at 0."""
        chosen = set(answer or ())
        right = {c.key for c in question.spec["options"] if c.correct}
        earned = len(chosen & right) - len(chosen - right)
        return max(0.0, earned / len(right))


class TrueFalse(QuestionKind):
    name, label = "true_false", "True or false"
    schema = {"answer": Field("bool"), "feedback_true": Field("text", required=False),
              "feedback_false": Field("text", required=False)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        if "answer" not in values:
            return None
        return {"answer": values["answer"],
                "feedback_true": values.get("feedback_true", "").strip(),
                "feedback_false": values.get("feedback_false", "").strip()}

    @classmethod
    def parse_answer(cls, question, form):
        value = _form_value(form, cls.field_name(question))
        if value is None:
            return None
        if value not in ("true", "false"):
            raise AnswerError("Answer 'true' or 'false'.")
        return value == "true"

    @classmethod
    def grade(cls, question, answer):
        return 1.0 if answer is question.spec["answer"] else 0.0


class Matching(QuestionKind):
    name, label = "matching", "Matching"
    schema = {"pairs": Field("mapping_list", non_empty=True),
              "distractors": Field("text_list", required=False)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        pairs_raw: LocatedList = values.get("pairs") or LocatedList()
        if not 2 <= len(pairs_raw) <= 8:
            problems.append(Problem(path, raw.key_lines.get("pairs", raw.line),
                                    f"question '{qid}' needs 2 to 8 pairs"))
        pairs = []
        for pair in pairs_raw:
            found = check(pair, {"left": Field("text"), "right": Field("text")}, path, problems)
            if "left" in found and "right" in found:
                pairs.append((str(found["left"]).strip(), str(found["right"]).strip()))
        lefts = [left for left, _ in pairs]
        rights = [right for _, right in pairs] + list(values.get("distractors", ()))
        if len(set(lefts)) != len(lefts) or len(set(rights)) != len(rights):
            problems.append(Problem(path, raw.key_lines.get("pairs", raw.line),
                                    f"question '{qid}' repeats a left or right item"))
            return None
        return {
            "pairs": tuple((_key("l", qid, left), left, _key("r", qid, right))
                           for left, right in pairs),
            "rights": tuple((_key("r", qid, right), right) for right in rights),
        }

    @classmethod
    def view(cls, question, rng):
        lefts = [(key, text) for key, text, _ in question.spec["pairs"]]
        rights = list(question.spec["rights"])
        rng.shuffle(lefts)
        rng.shuffle(rights)
        return {"lefts": lefts, "rights": rights}

    @classmethod
    def parse_answer(cls, question, form):
        rights = {key for key, _ in question.spec["rights"]}
        answer = {}
        for left_key, _text, _right in question.spec["pairs"]:
            value = _form_value(form, cls.field_name(question, left_key))
            if value is None:
                continue
            if value not in rights:
                raise AnswerError("That item is not part of this question.")
            answer[left_key] = value
        return answer or None

    @classmethod
    def grade(cls, question, answer):
        answer = answer or {}
        pairs = question.spec["pairs"]
        return sum(answer.get(left) == right for left, _t, right in pairs) / len(pairs)


class Ordering(QuestionKind):
    name, label = "ordering", "Ordering"
    schema = {"items": Field("text_list", non_empty=True)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        items = [str(item).strip() for item in values.get("items", ())]
        if not 3 <= len(items) <= 8 or len(set(items)) != len(items):
            problems.append(Problem(path, raw.key_lines.get("items", raw.line),
                                    f"question '{qid}' needs 3 to 8 different items"))
            return None
        return {"items": tuple((_key("i", qid, item), item) for item in items)}

    @classmethod
    def view(cls, question, rng):
        items = list(question.spec["items"])
        for _ in range(5):  # never show the items already in the right order
            rng.shuffle(items)
            if items != list(question.spec["items"]):
                break
        return {"items": items, "positions": list(range(1, len(items) + 1))}

    @classmethod
    def parse_answer(cls, question, form):
        positions = {}
        for key, _text in question.spec["items"]:
            value = _form_value(form, cls.field_name(question, key))
            if value is None:
                continue
            if not _POSITION.fullmatch(value) or not 1 <= int(value) <= len(question.spec["items"]):
                raise AnswerError("Each position must be a number from the list.")
            positions[key] = int(value)
        if not positions:
            return None
        if len(set(positions.values())) != len(positions):
            raise AnswerError("Give each item a different position.")
        return [key for key, _ in sorted(positions.items(), key=lambda kv: kv[1])] \
            if len(positions) == len(question.spec["items"]) else \
            {key: pos for key, pos in positions.items()}

    @classmethod
    def grade(cls, question, answer):
        if not isinstance(answer, list):
            return 0.0
        expected = [key for key, _ in question.spec["items"]]
        return sum(a == b for a, b in zip(answer, expected, strict=False)) / len(expected)


def parse_number(text: str) -> float:
    """A number as people type it: '12', '12.5', '12,5', ' 1 000 '."""
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError as exc:
        raise AnswerError("Enter a number, for example 30 or 2.5.") from exc
    if not math.isfinite(number):
        raise AnswerError("Enter a number, for example 30 or 2.5.")
    return number


class Numeric(QuestionKind):
    name, label = "numeric", "Numeric"
    schema = {"answer": Field("number"), "tolerance": Field("number", required=False),
              "unit": Field("text", required=False)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        if "answer" not in values:
            return None
        tolerance = float(values.get("tolerance", 0))
        if tolerance < 0:
            problems.append(Problem(path, raw.key_lines.get("tolerance", raw.line),
                                    "'tolerance' must not be negative"))
            return None
        return {"answer": float(values["answer"]), "tolerance": tolerance,
                "unit": values.get("unit", "")}

    @classmethod
    def view(cls, question, rng):
        return {"unit": question.spec["unit"]}

    @classmethod
    def parse_answer(cls, question, form):
        value = _form_value(form, cls.field_name(question))
        if value is None:
            return None
        if len(value) > 50:
            raise AnswerError("That answer is too long for a number.")
        return parse_number(value)

    @classmethod
    def grade(cls, question, answer):
        if answer is None:
            return 0.0
        # A tiny epsilon so that 0.1 + 0.2 style rounding never fails a boundary answer.
        allowed = question.spec["tolerance"] + 1e-9 * max(1.0, abs(question.spec["answer"]))
        return 1.0 if abs(float(answer) - question.spec["answer"]) <= allowed else 0.0


def fold_text(text: str, case_sensitive: bool) -> str:
    """Trim, fold inner runs of white space to one space, and (usually) ignore case."""
    folded = " ".join(text.split())
    return folded if case_sensitive else folded.casefold()


class ShortText(QuestionKind):
    name, label = "short_text", "Short text"
    schema = {"accept": Field("text_list", non_empty=True),
              "case_sensitive": Field("bool", required=False)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        if "accept" not in values:
            return None
        return {"accept": tuple(values["accept"]),
                "case_sensitive": values.get("case_sensitive", False)}

    @classmethod
    def parse_answer(cls, question, form):
        value = _form_value(form, cls.field_name(question))
        if value is not None and len(value) > MAX_TEXT_ANSWER:
            raise AnswerError(f"Answers are limited to {MAX_TEXT_ANSWER} characters.")
        return value

    @classmethod
    def grade(cls, question, answer):
        if not answer:
            return 0.0
        sensitive = question.spec["case_sensitive"]
        accepted = {fold_text(a, sensitive) for a in question.spec["accept"]}
        return 1.0 if fold_text(answer, sensitive) in accepted else 0.0


class Scenario(QuestionKind):
    name, label = "scenario", "Scenario"
    schema = {"case": Field("text"), "questions": Field("mapping_list", non_empty=True)}

    @classmethod
    def parse_spec(cls, values, raw, qid, path, problems):
        if "case" not in values:
            return None
        return {"case": values["case"]}


QUESTION_KINDS: dict[str, type[QuestionKind]] = {
    kind.name: kind
    for kind in (SingleChoice, MultipleResponse, TrueFalse, Matching, Ordering, Numeric,
                 ShortText, Scenario)
}


def parse_question(raw: Any, line: int, path: str, problems: list[Problem],
                   nested: bool = False) -> Question | None:
    """Validate one question mapping (a scenario's parts recursively)."""
    if not isinstance(raw, LocatedDict):
        problems.append(Problem(path, line, "each question must be a mapping of 'key: value'"))
        return None
    kind_name = raw.get("kind")
    kind = QUESTION_KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        kinds = ", ".join(QUESTION_KINDS)
        problems.append(Problem(path, raw.key_lines.get("kind", raw.line),
                                f"unknown question kind {kind_name!r} (use one of: {kinds})"))
        return None
    schema = dict(COMMON_SCHEMA, **kind.schema)
    if kind is Scenario:  # the linked questions carry the prompts, explanations and sources
        for key in ("prompt", "explanation"):
            schema[key] = Field("text", required=False)
        schema["sources"] = Field("text_list", required=False)
    before = len(problems)
    values = check(raw, schema, path, problems)
    qid = values.get("id", "?")
    if "id" in values and not QUESTION_ID.match(qid):
        problems.append(Problem(path, raw.key_lines["id"], f"question id '{qid}' must be "
                                "lower-case words joined by hyphens"))
    for tag, tag_line in zip(values.get("tags", ()), getattr(values.get("tags"), "item_lines",
                                                               ()), strict=False):
        if not TAG.match(tag):
            problems.append(Problem(path, tag_line, f"tag '{tag}' must look like "
                                                    "'topic/subtopic' in lower case"))
    if nested and kind is Scenario:
        problems.append(Problem(path, raw.line, "a scenario cannot contain another scenario"))
        return None
    if "jurisdictions" in values:
        check_codes(values["jurisdictions"], values["jurisdictions"].item_lines, path, problems)
    spec = kind.parse_spec(values, raw, qid, path, problems)
    parts: list[Question] = []
    if kind is Scenario and "questions" in values:
        items: LocatedList = values["questions"]
        for item, item_line in zip(items, items.item_lines, strict=True):
            part = parse_question(item, item_line, path, problems, nested=True)
            if part is not None:
                parts.append(part)
    if spec is None or len(problems) > before:
        return None
    return Question(
        id=qid, kind=kind.name, tags=tuple(values["tags"]), points=values.get("points", 1),
        prompt=str(values.get("prompt", "")).strip(),
        explanation=str(values.get("explanation", "")).strip(),
        sources=tuple(values.get("sources", ())), spec=spec, path=path, line=raw.line,
        parts=tuple(parts), jurisdictions=tuple(values.get("jurisdictions", ())),
    )


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
        return round(100 * self.score / self.max_score, 2) if self.max_score else 0.0

    def passed(self, pass_mark: int) -> bool:
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
