"""Reading a staff file: comma- or semicolon-separated, with or without a BOM.

Every problem is collected with its line number; nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask_babel import gettext as _

from learning.accounts.service import EMAIL, AccountError, clean_display_name, normalise_email

MAX_IMPORT_BYTES = 5 * 1024 * 1024
COLUMNS = ("email", "name", "unit")
DELIMITERS = (",", ";")


def sniff_delimiter(header_line: str) -> str:
    """The separator of a staff file, judged from its header line.

    Spreadsheet programs in many European locales save "CSV" with semicolons, because
    the comma is their decimal separator; the header names no column with either.
    """
    return max(DELIMITERS, key=header_line.count)


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be imported; ``line`` is None when it is about the whole file."""

    line: int | None
    reason: str

    def __str__(self) -> str:
        if self.line is None:
            return self.reason
        return _("line %(n)d: %(reason)s", n=self.line, reason=self.reason)


@dataclass(frozen=True)
class StaffRow:
    """One well-formed line of a staff file."""

    line: int
    email: str
    name: str
    unit: str


@dataclass
class ParsedStaff:
    """The well-formed rows of a file and every problem found while reading it."""

    rows: list[StaffRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def parse_staff_csv(data: bytes) -> ParsedStaff:
    """Read a staff file (header email,name,unit; commas or semicolons) into rows.

    Every problem is collected, each with its line number.
    """
    if len(data) > MAX_IMPORT_BYTES:
        return ParsedStaff(problems=[Problem(None, _(
            "The file is larger than %(mb)d MB. Split it into smaller files and import "
            "each one.", mb=MAX_IMPORT_BYTES // (1024 * 1024)))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ParsedStaff(problems=[Problem(data[:exc.start].count(b"\n") + 1, _(
            "the file is not UTF-8 text. Save it from your spreadsheet as "
            "\"CSV UTF-8\" and upload it again."))])
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [cell.strip().casefold() for cell in next(reader, [])]
    if sorted(header) != sorted(COLUMNS):
        return ParsedStaff(problems=[Problem(1, _(
            "the first line must name the columns email, name and unit (found: %(found)s).",
            found=", ".join(header) or _("nothing")))])
    parsed = ParsedStaff()
    first_seen: dict[str, int] = {}
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.problems.append(Problem(line, _("this line is not valid CSV (%(error)s).",
                                                   error=str(exc))))
            continue
        if not any(value.strip() for value in values):
            continue
        row = _read_row(line, dict(zip(header, values, strict=False)), len(values), first_seen)
        if isinstance(row, StaffRow):
            parsed.rows.append(row)
        else:
            parsed.problems.extend(row)
    if not parsed.rows and not parsed.problems:
        parsed.problems.append(Problem(None, _("The file lists no officers after its header.")))
    return parsed


def _read_row(line: int, cells: dict[str, str], count: int,
              first_seen: dict[str, int]) -> StaffRow | list[Problem]:
    """One data line as a row, or every problem it has (all of them, not just the first)."""
    if count != len(COLUMNS):
        return [Problem(line, _("expected 3 values (email, name, unit), found %(n)d.",
                                n=count))]
    email = normalise_email(cells["email"])
    name, unit = cells["name"].strip(), cells["unit"].strip()
    problems = []
    if not email:
        problems.append(Problem(line, _("the email is missing.")))
    elif len(email) > 254 or not EMAIL.match(email):
        problems.append(Problem(line, _("'%(email)s' is not a valid email address.",
                                        email=email[:100])))
    elif email in first_seen:
        problems.append(Problem(line, _("'%(email)s' already appears on line %(n)d.",
                                        email=email, n=first_seen[email])))
    else:
        first_seen[email] = line
    if not name:
        problems.append(Problem(line, _("the name is missing.")))
    else:
        try:
            name = clean_display_name(name)
        except AccountError as exc:
            problems.append(Problem(line, str(exc)))
    if not unit:
        problems.append(Problem(line, _("the unit is missing.")))
    return problems or StaffRow(line, email, name, unit)
