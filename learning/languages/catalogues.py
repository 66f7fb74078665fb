"""Checks on the shipped translation catalogues, for `flask languages check` and the suite.

A catalogue ships only when it is complete: every message of the code translated,
none fuzzy, the same placeholders as the English, and it compiles. Problems are
reported as ``path:line: message`` like `content check`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]|\{\w*\}")


def extract_messages(project_root: Path) -> set[str]:
    """Every message id the code and templates mark for translation (singular forms)."""
    with open(project_root / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(project_root), method_map, options_map,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
                      "_l": None, "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)}):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text)) | {m.group(0) for m in PLACEHOLDER.finditer(text)}


def catalogue_problems(po_path: Path, expected: set[str] | None = None) -> list[str]:
    """Everything that keeps ``po_path`` from shipping, as ``path:line: problem``."""
    with open(po_path, "rb") as handle:
        catalog: Catalog = read_po(handle)
    problems = []
    seen: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        seen.add(ids[0])
        where = f"{po_path}:{message.lineno}"
        if message.fuzzy:
            problems.append(f"{where}: fuzzy translation of {ids[0]!r}")
        if not all(strings):
            problems.append(f"{where}: untranslated {ids[0]!r}")
            continue
        wanted = placeholders(ids[0])
        if len(ids) > 1:  # plural forms may use the count and names of either English form
            allowed = wanted | placeholders(ids[1])
            wrong = [s for s in strings if not placeholders(s) <= allowed]
        else:
            wrong = [s for s in strings if placeholders(s) != wanted]
        for string in wrong:
            problems.append(f"{where}: placeholders {sorted(placeholders(string))} "
                            f"differ from {sorted(wanted)} in {ids[0]!r}")
    for missing in sorted((expected or set()) - seen):
        problems.append(f"{po_path}:1: missing {missing!r} (run `make translations-update`)")
    try:
        write_mo(io.BytesIO(), catalog)
    except Exception as exc:  # noqa: BLE001 (any failure to compile is a problem to report)
        problems.append(f"{po_path}:1: does not compile: {exc}")
    return problems


def shipped_catalogues(translations_dir: Path) -> list[Path]:
    return sorted(translations_dir.glob("*/LC_MESSAGES/messages.po"))
