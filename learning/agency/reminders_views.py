"""``/agency/export.xlsx``: the compliance rows as a spreadsheet, the same as the CSV."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import IO

from flask import Blueprint, send_file
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from learning.access import role_required
from learning.agency.views import begin_export, export_rows

bp = Blueprint("agency_exports", __name__, url_prefix="/agency")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMN_WIDTHS = (28, 32, 22, 36, 14, 12, 22)


def write_xlsx(lines: Iterable[tuple[str, ...]], out: IO[bytes]) -> None:
    """Write header and rows as one sheet in openpyxl's write-only mode (memory stays flat).

    Every cell is text, exactly as in the CSV: a value starting with "=" stays text rather
    than becoming a formula, and characters XML cannot hold are dropped.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Compliance")
    sheet.freeze_panes = "A2"
    for number, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = width
    bold = Font(bold=True)
    for number, line in enumerate(lines):
        cells = []
        for value in line:
            cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value) or None)
            if cell.value is not None:
                cell.data_type = "s"
            if number == 0:
                cell.font = bold
            cells.append(cell)
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
