"""The compliance export's rows and its XLSX writer: plain functions the export pages and
the export job share (no request: the caller says who looks, and what day it is for them)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import IO

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from learning.access import Viewer
from learning.agency import compliance
from learning.core.spreadsheets import looks_like_formula

# The exports' header, in the interface's language (labels a spreadsheet user can read).
EXPORT_COLUMNS = (_l("Officer"), _l("Email"), _l("Unit"), _l("Course"), _l("State"),
                  _l("Due on"), _l("Completed on"), _l("Score (%)"),
                  _l("Certificate expires on"))
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMN_WIDTHS = (28, 32, 22, 36, 14, 12, 14, 10, 22)

Line = tuple[str | date | int | None, ...]


def export_rows(filters: compliance.Filters, viewer: Viewer, today: date,
                window: int) -> Iterator[Line]:
    """Header, then one line per (officer, course): the screen's rows and labels, dates typed.

    The labels are translated when this is called (in the request, or under the job
    owner's locale): a stream runs later, when the language can no longer be looked up.
    """
    header = tuple(str(column) for column in EXPORT_COLUMNS)
    labels = {state: str(label) for state, label in compliance.STATE_LABELS.items()}
    return _lines(header, labels, compliance.stream(viewer, today, window, filters))


def _lines(header: tuple[str, ...], labels: dict[str, str],
           rows: Iterator[compliance.ComplianceRow]) -> Iterator[Line]:
    yield header
    for row in rows:
        yield (row.officer.name, row.officer.email, row.officer.unit_name,
               row.requirement.course_title, labels[row.state], row.due_on,
               row.completed_on, row.score, row.certificate_expires_on)


def _cell(sheet, value: str | date | int | None) -> WriteOnlyCell:
    """A typed cell: text stays text (never a formula), dates are dates, None is empty."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value) or None
    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        cell.quotePrefix = looks_like_formula(value)  # and stays text when edited
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def write_xlsx(lines: Iterable[Line], out: IO[bytes]) -> None:
    """Write header and rows as one sheet in openpyxl's write-only mode (memory stays flat).

    Text is exactly as typed and always text: a name starting with "=" is shown, never
    run as a formula. Dates are date cells; characters XML cannot hold are dropped.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Compliance")
    sheet.freeze_panes = "A2"
    for number, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    bold = Font(bold=True)
    for number, line in enumerate(lines):
        cells = [_cell(sheet, value) for value in line]
        if number == 0:
            for cell in cells:
                cell.font = bold
        sheet.append(cells)
    workbook.save(out)
