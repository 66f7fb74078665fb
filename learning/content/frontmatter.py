"""Split a Markdown file into YAML front matter and body, keeping line numbers.

PyYAML's ``safe_load`` forgets where each value came from; authors need
``path:line`` messages, so we walk the composed node tree ourselves and keep
the line of every key and list item. Duplicate keys, which PyYAML silently
overwrites, are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from learning.content.problems import Problem
from learning.content.safety import MAX_YAML_DEPTH


class LocatedDict(dict):
    """A mapping that remembers the file line of each key."""

    line: int
    key_lines: dict[str, int]


class LocatedList(list):
    """A list that remembers the file line of each item."""

    line: int
    item_lines: list[int]


@dataclass(frozen=True)
class Document:
    """A parsed file: its front matter (or None) and Markdown body."""

    meta: LocatedDict | None
    body: str
    body_line: int


def _to_python(loader: yaml.SafeLoader, node: yaml.Node, offset: int, path: str,
               problems: list[Problem]) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = LocatedDict()
        result.line = node.start_mark.line + offset
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + offset
            if not isinstance(key, str):
                problems.append(Problem(path, line, f"key {key!r} must be text"))
                continue
            if key in result:
                problems.append(Problem(path, line, f"duplicate key '{key}'"))
            result[key] = _to_python(loader, value_node, offset, path, problems)
            result.key_lines[key] = line
        return result
    if isinstance(node, yaml.SequenceNode):
        items = LocatedList()
        items.line = node.start_mark.line + offset
        items.item_lines = []
        for item in node.value:
            items.append(_to_python(loader, item, offset, path, problems))
            items.item_lines.append(item.start_mark.line + offset)
        return items
    return loader.construct_object(node, deep=True)


_OPENING = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
            yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _unsafe_yaml(text: str, path: str, first_line: int) -> Problem | None:
    """Refuse anchors, aliases and deep nesting before building anything.

    SafeLoader still expands aliases, so a few hundred bytes of nested
    ``*alias`` lists ("billion laughs") become billions of values; our files
    never need them. The scan is linear in the file size.
    """
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        line = token.start_mark.line + first_line
        if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
            return Problem(path, line, "YAML anchors and aliases ('&name', '*name') are not "
                                       "allowed: write each value out in full")
        if isinstance(token, _OPENING):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return Problem(path, line, f"YAML is nested more than {MAX_YAML_DEPTH} "
                                           "levels deep")
        elif isinstance(token, _CLOSING):
            depth -= 1
    return None


def parse_yaml(text: str, path: str, problems: list[Problem], first_line: int = 1) -> Any:
    """Parse YAML keeping file lines on mappings and lists; None (and a problem) on error."""
    try:
        unsafe = _unsafe_yaml(text, path, first_line)
    except yaml.MarkedYAMLError:
        unsafe = None  # the parse below reports the syntax error with its line
    if unsafe is not None:
        problems.append(unsafe)
        return None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _to_python(loader, node, first_line, path, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else first_line
        problems.append(Problem(path, line, f"YAML syntax error: {exc.problem or exc.context}"))
        return None
    finally:
        loader.dispose()


def parse_document(text: str, path: str, problems: list[Problem]) -> Document:
    """Parse ``---`` fenced YAML front matter followed by a Markdown body."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        problems.append(Problem(path, 1, "file must start with '---' and YAML front matter"))
        return Document(None, text, 1)
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        problems.append(Problem(path, 1, "front matter is not closed by a '---' line"))
        return Document(None, "", len(lines) + 1)
    yaml_text = "".join(lines[1:end])
    body = "".join(lines[end + 1:])
    body_line = end + 2
    before = len(problems)
    meta = parse_yaml(yaml_text, path, problems, first_line=2)
    if meta is None:
        if len(problems) == before:
            problems.append(Problem(path, 2, "front matter is empty"))
        return Document(None, body, body_line)
    if not isinstance(meta, LocatedDict):
        problems.append(Problem(path, 2, "front matter must be a mapping of 'key: value' lines"))
        return Document(None, body, body_line)
    return Document(meta, body, body_line)
