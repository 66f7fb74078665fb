"""Convert Moodle GIFT and Aiken question files into our question-bank YAML.

Pure functions: text in, plain dicts and problems out. Every problem carries the
source file's 1-based line, so a trainer can fix the original and convert again.
Errors are questions that were skipped; warnings are questions converted with a
loss (weights simplified, format markers dropped, placeholders to fill in).
One module per format (``gift``, helped by ``gift_syntax`` and ``gift_answers``;
``aiken``); ``bank`` holds what they share.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from learning.content.importers.aiken import import_aiken
from learning.content.importers.bank import ImportResult
from learning.content.importers.gift import import_gift
from learning.content.questions import TAG

FORMATS = ("gift", "aiken")


def detect_format(text: str, path: str) -> str | None:
    """'gift' or 'aiken' from the file's extension and contents; None when unclear."""
    suffix = PurePath(path).suffix.lower()
    if suffix == ".gift":
        return "gift"
    if re.search(r"^\s*ANSWER:\s*[A-Za-z]\s*$", text, re.MULTILINE):
        return "aiken"
    if suffix in (".txt", "") and ("::" in text or "{" in text):
        return "gift"
    return None


def import_file(text: str, path: str, fmt: str, tag: str | None = None) -> ImportResult:
    """Convert ``text`` in format ``fmt`` ('gift' or 'aiken')."""
    if tag is not None and not TAG.match(tag):
        raise ValueError(f"tag '{tag}' must look like 'topic/subtopic' in lower case")
    return (import_gift if fmt == "gift" else import_aiken)(text, path, tag)
