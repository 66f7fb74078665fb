"""Cells that a spreadsheet will not run: CSV and XLSX exports of names people typed.

A cell starting with =, +, -, @, tab or carriage return is read as a formula by Excel,
LibreOffice and Google Sheets (CSV injection: ``=HYPERLINK(...)`` in an officer's name).
"""

from __future__ import annotations

from datetime import date
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """True for a string a spreadsheet would evaluate rather than show."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell: formula-like strings get a leading ' (shown as text); others unchanged.

    Numbers stay numbers (a negative number is not a formula); dates are written as
    ISO dates, and None as an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return "'" + value if looks_like_formula(value) else value
