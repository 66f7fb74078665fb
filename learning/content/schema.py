"""Front-matter schemas: which keys a file may have and what type each holds.

A schema is a dict of key -> Field; ``check`` collects every problem (unknown
key, missing key, wrong type) instead of stopping at the first.
"""

from __future__ import annotations

import datetime
import difflib
import re
from dataclasses import dataclass
from typing import Any

from learning.content.frontmatter import LocatedDict, LocatedList
from learning.content.problems import Problem

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def is_slug(text: str, longest: int) -> bool:
    """Whether ``text`` is a slug of at most ``longest`` characters (one a column of that
    length could hold: anything else is not worth sending to the database)."""
    return len(text) <= longest and SLUG.match(text) is not None


LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class Field:
    """One front-matter key: its type, whether it is required, its bounds."""

    kind: str  # text, int, number, bool, date, text_list, mapping_list, mapping, language
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    nullable: bool = False
    non_empty: bool = False
    help: str = ""


TYPE_NAMES = {
    "text": "text",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "text_list": "a list of text items",
    "mapping_list": "a list of mappings",
    "mapping": "a mapping of 'key: value' lines",
    "language": "a language code such as 'en' or 'fr'",
    "date": "a date written YYYY-MM-DD",
}


def _check_value(key: str, field: Field, value: Any, line: int, path: str,
                 problems: list[Problem]) -> bool:
    expected = TYPE_NAMES[field.kind]
    if value is None and field.nullable:
        return True
    if field.kind in ("text", "language"):
        if isinstance(value, bool):
            problems.append(Problem(
                path, line, f"'{key}' must be {expected}: put it in quotes, as YAML reads yes, "
                            "no, on and off as true or false"))
            return False
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(path, line, f"'{key}' must be {expected}"))
            return False
        if field.kind == "language" and not LANGUAGE.match(value):
            problems.append(Problem(path, line, f"'{key}' must be {expected}"))
            return False
        return True
    if field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem(path, line, f"'{key}' must be {expected}, not {value!r}"))
            return False
        if field.minimum is not None and value < field.minimum:
            problems.append(Problem(path, line, f"'{key}' must be at least {field.minimum}"))
            return False
        if field.maximum is not None and value > field.maximum:
            problems.append(Problem(path, line, f"'{key}' must be at most {field.maximum}"))
            return False
        return True
    if field.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem(path, line, f"'{key}' must be {expected}, not {value!r}"))
            return False
        return True
    if field.kind == "date":
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            problems.append(Problem(path, line, f"'{key}' must be {expected}, not {value!r}"))
            return False
        return True
    if field.kind == "mapping":
        if not isinstance(value, LocatedDict):
            problems.append(Problem(path, line, f"'{key}' must be {expected}"))
            return False
        return True
    if field.kind == "bool":
        if not isinstance(value, bool):
            problems.append(Problem(path, line, f"'{key}' must be {expected}"))
            return False
        return True
    if not isinstance(value, LocatedList):
        problems.append(Problem(path, line, f"'{key}' must be {expected}"))
        return False
    if field.non_empty and not value:
        problems.append(Problem(path, line, f"'{key}' must list at least one item"))
        return False
    ok = True
    for item, item_line in zip(value, value.item_lines, strict=True):
        if field.kind == "text_list" and (not isinstance(item, str) or not item.strip()):
            problems.append(Problem(path, item_line, f"each item of '{key}' must be text"))
            ok = False
        if field.kind == "mapping_list" and not isinstance(item, LocatedDict):
            problems.append(Problem(path, item_line, f"each item of '{key}' must be a mapping"))
            ok = False
    return ok


def check(meta: LocatedDict, schema: dict[str, Field], path: str,
          problems: list[Problem]) -> dict[str, Any]:
    """Validate front matter against a schema; return only the valid values."""
    valid: dict[str, Any] = {}
    for key, value in meta.items():
        line = meta.key_lines.get(key, meta.line)
        field = schema.get(key)
        if field is None:
            close = difflib.get_close_matches(key, schema, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem(path, line, f"unknown key '{key}'{hint}"))
            continue
        if _check_value(key, field, value, line, path, problems):
            valid[key] = value
    for key, field in schema.items():
        if field.required and key not in meta:
            problems.append(Problem(path, meta.line, f"missing required key '{key}'"))
    return valid


def line_of(meta: LocatedDict, key: str) -> int:
    """The file line of a key, or of the mapping itself when the key is absent."""
    return meta.key_lines.get(key, meta.line)
