"""Choice kinds: the learner picks one option (single) or several (multiple)."""

from __future__ import annotations

from dataclasses import dataclass

from learning.content.frontmatter import LocatedDict, LocatedList
from learning.content.kinds.base import (
    AnswerError,
    QuestionKind,
    form_list,
    form_value,
    option_key,
)
from learning.content.problems import Problem
from learning.content.schema import Field, check


@dataclass(frozen=True)
class Choice:
    """One option of a choice question."""

    key: str
    text: str
    correct: bool = False
    feedback: str = ""


def _parse_choices(values: dict, raw: LocatedDict, qid: str, path: str,
                   problems: list[Problem], minimum: int, maximum: int) -> tuple[Choice, ...]:
    """The ``options`` list as choices (a bare string is an option's text)."""
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
        choices.append(Choice(option_key("o", qid, text), text, found.get("correct", False),
                              str(found.get("feedback", "")).strip()))
    return tuple(choices)


class SingleChoice(QuestionKind):
    """One right option among 2 to 8; the options are shown shuffled."""

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
        value = form_value(form, cls.field_name(question))
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
    """One or more right options among 2 to 10; wrong picks cancel right ones."""

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
        values = sorted(set(form_list(form, cls.field_name(question))))
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

