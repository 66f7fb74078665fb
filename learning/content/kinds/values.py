"""Value kinds: the learner gives one value (true or false, a number, a short text)."""

from __future__ import annotations

import math

from learning.content.kinds.base import AnswerError, QuestionKind, form_value
from learning.content.problems import Problem
from learning.content.schema import Field

MAX_TEXT_ANSWER = 500


class TrueFalse(QuestionKind):
    """A statement that is true or false."""

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
        value = form_value(form, cls.field_name(question))
        if value is None:
            return None
        if value not in ("true", "false"):
            raise AnswerError("Answer 'true' or 'false'.")
        return value == "true"

    @classmethod
    def grade(cls, question, answer):
        return 1.0 if answer is question.spec["answer"] else 0.0


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
    """A number, right within a tolerance."""

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
        value = form_value(form, cls.field_name(question))
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
    """A few words, compared with the accepted answers after folding space and case."""

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
        value = form_value(form, cls.field_name(question))
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

