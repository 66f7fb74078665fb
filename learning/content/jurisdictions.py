"""Jurisdiction variants: lesson passages and bank items that apply in some places only.

A lesson marks such a passage with a fenced block::

    ::: jurisdiction uk
    In the United Kingdom ...
    :::

Officers see the general text plus the passages of their agency's jurisdiction. Each
lesson is rendered once per version for the general case and once per jurisdiction it
names, so reading a lesson never runs Markdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from babel import Locale, UnknownLocaleError

from learning.content.problems import Problem

# The European Union and the United Kingdom by name, then every ISO 3166-1 alpha-2 code
# ('gb' is spelt 'uk'; CLDR's groupings such as the euro zone are not jurisdictions).
REGIONS = {"eu": "European Union", "uk": "United Kingdom"}
NOT_COUNTRIES = {"gb", "ez", "un", "qo", "xa", "xb", "zz", "ac", "cp", "dg", "ea", "ic", "ta"}
KNOWN = frozenset(REGIONS) | frozenset(
    code.lower() for code in Locale("en").territories
    if len(code) == 2 and code.isalpha() and code.lower() not in NOT_COUNTRIES)
OPEN = re.compile(r"^:::\s*jurisdictions?\b(.*)$")
CLOSE = re.compile(r"^:::\s*$")
CODE_FENCE = re.compile(r"^\s*(```|~~~)")
LABEL = "Applies in:"  # rendered once per version, in the content's words (see the README)


@dataclass(frozen=True)
class Variant:
    """A fenced passage: the jurisdictions it applies to and its body lines (0-based)."""

    codes: tuple[str, ...]
    start: int  # the opening fence
    end: int  # the closing fence


def parse_codes(raw: str) -> list[str]:
    """Split 'eu, fr' or 'eu fr' into lower-case codes."""
    return [code.strip().lower() for code in re.split(r"[,\s]+", raw) if code.strip()]


def find_variants(body: str, first_line: int, path: str,
                  problems: list[Problem]) -> list[Variant]:
    """The variant blocks of a Markdown body; bad fences are reported at path:line."""
    variants: list[Variant] = []
    opened: tuple[int, list[str]] | None = None
    in_code = False
    for index, line in enumerate(body.splitlines()):
        if CODE_FENCE.match(line):
            in_code = not in_code
        if in_code:
            continue
        where = first_line + index
        match = OPEN.match(line)
        if match:
            if opened is not None:
                problems.append(Problem(path, where, "a '::: jurisdiction' block cannot hold "
                                                     "another one; close the first with ':::'"))
                continue
            codes = parse_codes(match.group(1))
            if not codes:
                problems.append(Problem(path, where, "'::: jurisdiction' must name at least one "
                                                     "jurisdiction, for example 'uk' or 'eu, fr'"))
            for code in codes:
                if code not in KNOWN:
                    problems.append(Problem(path, where, f"unknown jurisdiction '{code}' (use "
                                            "'eu', 'uk' or an ISO 3166-1 country code)"))
            opened = (index, codes)
        elif CLOSE.match(line):
            if opened is None:
                problems.append(Problem(path, where, "':::' closes no '::: jurisdiction' block"))
                continue
            variants.append(Variant(tuple(dict.fromkeys(opened[1])), opened[0], index))
            opened = None
    if opened is not None:
        problems.append(Problem(path, first_line + opened[0], "'::: jurisdiction' block is "
                                                              "never closed with ':::'"))
    return variants


def check_codes(codes: list[str], lines: list[int], path: str,
                problems: list[Problem]) -> None:
    """Report every code that is not a known jurisdiction."""
    for code, line in zip(codes, lines, strict=False):
        if str(code).lower() not in KNOWN or code != str(code).lower():
            problems.append(Problem(path, line, f"unknown jurisdiction '{code}' (use 'eu', 'uk' "
                                                "or a lower-case ISO 3166-1 country code)"))


def jurisdiction_name(code: str, language: str = "en") -> str:
    """A jurisdiction's name in the given language (the code itself if unknown)."""
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        locale = Locale("en")
    if code == "eu":
        return locale.territories.get("EU", REGIONS["eu"])
    return locale.territories.get("GB" if code == "uk" else code.upper(), code)


def choices(language: str = "en") -> list[tuple[str, str]]:
    """(code, name) of every known jurisdiction: the EU and the UK first, then by name."""
    first = [(code, jurisdiction_name(code, language)) for code in ("eu", "uk")]
    rest = sorted(((code, jurisdiction_name(code, language)) for code in KNOWN
                   if code not in REGIONS), key=lambda pair: pair[1])
    return first + rest


def named(body: str) -> tuple[str, ...]:
    """Every jurisdiction a body's variant blocks name, sorted."""
    return tuple(sorted({code for v in find_variants(body, 1, "", []) for code in v.codes
                         if code in KNOWN}))


def body_for(body: str, jurisdiction: str | None, language: str = "en") -> str:
    """The Markdown a reader in ``jurisdiction`` sees: general text plus the matching blocks,
    each wrapped in a labelled ``div.variant`` (None: the general text only)."""
    variants = find_variants(body, 1, "", [])
    if not variants:
        return body
    lines = body.splitlines()
    out: list[str] = []
    position = 0
    for variant in variants:
        out.extend(lines[position:variant.start])
        if jurisdiction in variant.codes:
            places = ", ".join(jurisdiction_name(c, language) for c in variant.codes)
            codes = escape(" ".join(variant.codes), quote=True)
            out += ["", f'<div class="variant" data-jurisdictions="{codes}" markdown="1">',
                    f'<p class="variant-label">{escape(LABEL)} {escape(places)}</p>', ""]
            out += lines[variant.start + 1:variant.end]
            out += ["", "</div>", ""]
        else:
            out.append("")
        position = variant.end + 1
    out.extend(lines[position:])
    return "\n".join(out) + "\n"


def valid_for(item_codes: tuple[str, ...], jurisdiction: str | None) -> bool:
    """A bank item with no jurisdictions is general; otherwise it must name this one."""
    return not item_codes or jurisdiction in item_codes
