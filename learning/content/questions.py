"""Questions: the frozen ``Question`` and ``parse_question``, which validates one.

The kinds (what each asks and how it grades) live in ``learning.content.kinds``,
grading a whole attempt in ``learning.content.grading``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from learning.content.frontmatter import LocatedDict, LocatedList
from learning.content.grading import grade_attempt as grade_attempt  # re-exported for assessments
from learning.content.jurisdictions import check_codes
from learning.content.kinds import QUESTION_KINDS
from learning.content.kinds.base import AnswerError as AnswerError  # re-exported for assessments
from learning.content.kinds.base import QuestionKind
from learning.content.kinds.scenario import Scenario
from learning.content.problems import Problem
from learning.content.schema import Field, check

QUESTION_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TAG = re.compile(r"^[a-z0-9-]+(?:/[a-z0-9-]+)*$")


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
        """The kind's class, which shows, reads and grades the question."""
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

