"""``/agency/export.xlsx``: the compliance rows as a spreadsheet, the same as the CSV."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import date
from typing import IO

from flask import Blueprint, send_file
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from learning.access import role_required
from learning.agency.views import begin_export, export_rows
from learning.core.spreadsheets import looks_like_formula

bp = Blueprint("agency_exports", __name__, url_prefix="/agency")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMN_WIDTHS = (28, 32, 22, 36, 14, 12, 14, 10, 22)


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


def write_xlsx(lines: Iterable[tuple[str | date | int | None, ...]], out: IO[bytes]) -> None:
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


@bp.get("/export.xlsx")
@role_required("manager")
def export_xlsx():
    """The compliance rows as XLSX: same filters, rows and columns as the CSV export."""
    filters, viewer = begin_export("xlsx")
    # A ZIP needs its directory at the end, so the sheet is built in a temporary file
    # (rows go to disk as they come) and then sent; send_file closes and so removes it.
    out = tempfile.TemporaryFile()
    write_xlsx(export_rows(filters, viewer), out)
    out.seek(0)
    return send_file(out, mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name="compliance.xlsx", max_age=0)
