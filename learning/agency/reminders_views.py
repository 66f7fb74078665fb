"""``/agency/export.xlsx``: the compliance rows as a spreadsheet, the same as the CSV."""

from __future__ import annotations

import tempfile

from flask import Blueprint, send_file

from learning.access import role_required
from learning.agency.exports import XLSX_MIMETYPE, write_xlsx
from learning.agency.views import begin_export, export_rows

bp = Blueprint("agency_exports", __name__, url_prefix="/agency")


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
