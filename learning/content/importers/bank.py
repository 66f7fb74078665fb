"""What every importer shares: the result, the YAML writer and the question builder.

The builder adds the fields our schema needs that Moodle files lack (a unique id,
a tag, placeholder explanation and source) and records a warning for each one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml

from learning.content.problems import Problem

EXPLANATION_PLACEHOLDER = "TODO: explain why the answer is right."
SOURCE_PLACEHOLDER = "TODO: name the source."
MAX_ID_LENGTH = 50
ID_WORDS = 6

@dataclass
class ImportResult:
    """The converted questions (plain dicts in our YAML schema) and what went wrong."""

    questions: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def to_yaml(self) -> str:
        """A question bank file: ``questions:`` in readable block style."""
        return yaml.dump({"questions": self.questions}, Dumper=_BankDumper, sort_keys=False,
                         allow_unicode=True, width=100, default_flow_style=False)


class _BankDumper(yaml.SafeDumper):
    """safe_dump's dumper, with indented lists and multi-line text as ``|`` blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BankDumper.add_representer(str, _represent_str)


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens ('' when nothing is left)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _short_slug(text: str) -> str:
    """The slug of the first few words, cut at a word boundary."""
    words = re.sub(r"<[^>]*>", " ", text).split()
    slug = slugify(" ".join(words[:ID_WORDS]))
    if len(slug) > MAX_ID_LENGTH:
        slug = slug[:MAX_ID_LENGTH].rsplit("-", 1)[0] or slug[:MAX_ID_LENGTH]
    return slug.strip("-")


def tidy_number(value: float) -> int | float:
    """12.0 -> 12, so that YAML and messages show numbers as people write them."""
    return int(value) if float(value).is_integer() else value


def clean_text(text: str) -> str:
    """Trim the text and each of its lines (so YAML can write it as a block)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    return "\n".join(lines)


class QuestionBuilder:
    """Adds the fields every question needs and keeps ids unique within the file."""

    def __init__(self, path: str, tag: str | None) -> None:
        self.path = path
        self.tag = tag
        stem = slugify(PurePath(path).stem) or "bank"
        self.default_tag = f"imported/{stem}"
        self.used: set[str] = set()
        self.result = ImportResult()

    def error(self, line: int, message: str) -> None:
        """Record why a question was skipped."""
        self.result.problems.append(Problem(self.path, line, message))

    def add(self, line: int, name: str, kind: str, prompt: str, fields: dict[str, Any],
            explanation: str, warnings: list[tuple[int, str]],
            category_tag: str | None = None) -> dict[str, Any]:
        """Add a converted question with its id, tag and placeholders; record its warnings."""
        base = _short_slug(name) or _short_slug(prompt) or "question"
        qid, n = base, 1
        while qid in self.used:
            n += 1
            qid = f"{base}-{n}"
        self.used.add(qid)
        question: dict[str, Any] = {
            "id": qid,
            "kind": kind,
            "tags": [self.tag or category_tag or self.default_tag],
            "prompt": prompt,
            **fields,
        }
        if explanation:
            question["explanation"] = explanation
        else:
            question["explanation"] = EXPLANATION_PLACEHOLDER
            warnings.append((line, f"question '{qid}' has no general feedback: fill in the "
                                   "placeholder explanation"))
        question["sources"] = [SOURCE_PLACEHOLDER]
        warnings.append((line, f"question '{qid}' needs its source: fill in the placeholder"))
        self.result.questions.append(question)
        for warning_line, message in warnings:
            self.result.problems.append(Problem(self.path, warning_line, message, "warning"))
        return question
