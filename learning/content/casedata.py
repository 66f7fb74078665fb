"""Warn when content looks like real case material.

Training material must never carry real case data: passport machine-readable
zones, police case or crime reference numbers, documents bearing a security
classification. Each finding is a warning naming the line (an error under
``content check --strict``). The patterns are kept narrow on purpose, so
that ordinary prose about passports, cases and confidentiality passes.
"""

from __future__ import annotations

import re

from learning.content.problems import Problem

# ICAO 9303 machine-readable zones: lines of 30 (ID card), 36 or 44 (passport)
# characters from A-Z, 0-9 and the filler '<', which always repeats somewhere.
MRZ_RUN = re.compile(r"(?<![A-Za-z0-9<])[A-Z0-9<]{30,44}(?![A-Za-z0-9<])")
# PREFIX-YEAR-SERIAL, as case management systems print them: CASE-2024-000123, INC/2023/45678.
CASE_NUMBER = re.compile(r"\b[A-Z]{2,6}[-/](?:19|20)\d{2}[-/]\d{4,}\b")
# A labelled reference with a number: "Crime ref: 12/34567/24", "case no. 2024-1187".
LABELLED_REFERENCE = re.compile(
    r"\b(?:crime|case|incident|occurrence|investigation|custody)\s+"
    r"(?:ref(?:erence)?|no|number|#)\.?\s*(?:no\.?|number)?\s*[:#]?\s*"
    r"(?P<ref>[A-Z0-9][A-Z0-9/-]*)",
    re.IGNORECASE,
)
# A police Unique Reference Number: "URN 01YE1234523", "URN: 42/1234/23".
URN = re.compile(r"\bURN\b\s*[:#]?\s*(?P<ref>[A-Z0-9][A-Z0-9/-]*)")
# Protective markings, only as upper-case words (prose says "confidential" in lower case).
MARKING = re.compile(
    r"(?<![A-Za-z-])(EU RESTRICTED|RESTREINT UE|NATO RESTRICTED|TOP SECRET"
    r"|OFFICIAL[- ]SENSITIVE|CONFIDENTIAL|RESTRICTED|SECRET)(?![A-Za-z-])"
)
MIN_REFERENCE_DIGITS = 4
NEVER = "training material must never carry real case data"


def _has_reference(match: re.Match[str] | None) -> bool:
    return bool(match) and sum(c.isdigit() for c in match.group("ref")) >= MIN_REFERENCE_DIGITS


def _mrz(line: str) -> str | None:
    for match in MRZ_RUN.finditer(line):
        run = match.group(0)
        if "<<" in run and sum(c.isalnum() for c in run) >= 5:
            return run
    return None


def line_findings(line: str) -> list[str]:
    """What on one line looks like case material, as messages (empty when nothing does)."""
    findings = []
    mrz = _mrz(line)
    if mrz:
        findings.append(f"looks like a passport machine-readable zone ('{mrz[:16]}...'); "
                        f"{NEVER}: describe the zone or use a specimen image")
    number = CASE_NUMBER.search(line)
    labelled = LABELLED_REFERENCE.search(line)
    urn = URN.search(line)
    if number:
        findings.append(f"looks like a case reference number ('{number.group(0)}'); {NEVER}")
    elif _has_reference(labelled) or _has_reference(urn):
        found = (labelled if _has_reference(labelled) else urn).group(0)
        findings.append(f"looks like a case or crime reference ('{found}'); {NEVER}")
    marking = MARKING.search(line)
    if marking:
        findings.append(f"carries the classification marking '{marking.group(1)}': classified "
                        f"material does not belong in training content; {NEVER}")
    return findings


def find_case_data(path: str, text: str, first_line: int = 1) -> list[Problem]:
    """A warning for every line of ``text`` that looks like case material."""
    return [
        Problem(path, number, message, "warning")
        for number, line in enumerate(text.splitlines(), start=first_line)
        for message in line_findings(line)
    ]
