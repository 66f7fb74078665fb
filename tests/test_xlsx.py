"""The XLSX export: the same rows and columns as the CSV and the screen, read back."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from learning.accounts.service import get_or_create_agency
from learning.agency import compliance
from learning.agency.models import AuditEntry
from learning.agency.reminders_views import XLSX_MIMETYPE, write_xlsx
from learning.agency.service import create_assignment
from learning.agency.views import EXPORT_COLUMNS as LABELS
from learning.catalogue.models import Course
from learning.extensions import db
from learning.timeutil import utcnow

EXPORT_COLUMNS = tuple(str(label) for label in LABELS)


def _as_csv_writes_it(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return value.date().isoformat() if isinstance(value, datetime) else value


def sheet_rows(data: bytes) -> list[tuple[str, ...]]:
    """Every row of the only sheet, as the CSV writes it (empty cells "", dates ISO)."""
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Compliance"]
    return [tuple(_as_csv_writes_it(value) for value in row)
            for row in workbook["Compliance"].iter_rows(values_only=True)]


def csv_rows(data: bytes) -> list[tuple[str, ...]]:
    """The CSV's rows, without the ' that keeps formula-like text from running."""
    text = data.decode("utf-8-sig")
    return [tuple(v[1:] if v[:1] == "'" and v[1:2] in ("=", "+", "-", "@", "\t", "\r") else v
                  for v in row) for row in csv.reader(io.StringIO(text))]


@pytest.fixture
def setup(synced, make_user, make_unit, agency):
    north, south = make_unit(agency, "North Post"), make_unit(agency, "South Station")
    manager = make_user("manager", agency=agency)
    for n in range(3):
        make_user("officer", agency=agency, unit=north, name=f"North {n}")
    make_user("officer", agency=agency, unit=south, name="=HYPERLINK(\"http://x\")")
    course = db.session.scalar(sa.select(Course))
    create_assignment(manager, course.id, date(2020, 1, 1), "none", None,
                      [north.id, south.id], [])
    return {"north": north, "south": south, "manager": manager, "agency": agency,
            "course": course}


def test_xlsx_equals_csv_and_screen(setup, client, login_as):
    login_as(setup["manager"])
    response = client.get("/agency/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == XLSX_MIMETYPE
    assert 'filename=compliance.xlsx' in response.headers["Content-Disposition"]
    rows = sheet_rows(response.data)
    assert rows[0] == EXPORT_COLUMNS
    assert rows == csv_rows(client.get("/agency/export.csv").data)
    screen = compliance.snapshot(setup["manager"], utcnow().date(), 90)
    assert [(r[0], r[2], r[4], r[5], r[6]) for r in rows[1:]] == [
        (row.officer.name, row.officer.unit_name, compliance.STATE_LABELS[row.state],
         row.due_on.isoformat(), "")
        for row in screen]
    assert len(rows) == 5 and {r[4] for r in rows[1:]} == {"Overdue"}
    page = client.get("/agency/").get_data(as_text=True)
    assert "/agency/export.xlsx?" in page and "Export XLSX" in page


def test_xlsx_filters_match_csv(setup, client, login_as):
    login_as(setup["manager"])
    for query in (f"unit={setup['south'].id}", "state=overdue", "state=completed",
                  f"course={setup['course'].id}&unit={setup['north'].id}"):
        xlsx = sheet_rows(client.get(f"/agency/export.xlsx?{query}").data)
        assert xlsx == csv_rows(client.get(f"/agency/export.csv?{query}").data), query
    south_only = sheet_rows(client.get(f"/agency/export.xlsx?unit={setup['south'].id}").data)
    assert [r[2] for r in south_only[1:]] == ["South Station"]
    assert sheet_rows(client.get("/agency/export.xlsx?state=completed").data) == [
        EXPORT_COLUMNS]
    assert client.get("/agency/export.xlsx?state=bogus").status_code == 400


def test_xlsx_cells_are_text_not_formulas(setup, client, login_as):
    login_as(setup["manager"])
    workbook = load_workbook(io.BytesIO(client.get("/agency/export.xlsx").data))
    names = [cell for (cell,) in workbook["Compliance"].iter_rows(min_col=1, max_col=1)]
    formula = next(cell for cell in names if str(cell.value).startswith("="))
    assert formula.value == '=HYPERLINK("http://x")'
    assert formula.data_type == "s"
    assert names[0].font.bold


def test_write_xlsx_drops_characters_xml_cannot_hold():
    out = io.BytesIO()
    write_xlsx([("name", "unit"), ("Ann\x07 Lee", ""), ("", "North")], out)
    assert sheet_rows(out.getvalue()) == [("name", "unit"), ("Ann Lee", ""), ("", "North")]


def test_xlsx_export_is_audited_and_scoped(setup, client, login_as, make_user, make_unit):
    login_as(setup["manager"])
    client.get(f"/agency/export.xlsx?unit={setup['north'].id}")
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "export.xlsx")).one()
    assert entry.actor_id == setup["manager"].id
    assert entry.details["filters"]["unit_id"] == setup["north"].id
    client.post("/logout")

    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    other_manager = make_user("manager", agency=other)
    login_as(other_manager)
    assert sheet_rows(client.get("/agency/export.xlsx").data) == [EXPORT_COLUMNS]
    assert sheet_rows(client.get(f"/agency/export.xlsx?unit={setup['north'].id}").data) == [
        EXPORT_COLUMNS]


@pytest.mark.parametrize("role,status", [("officer", 403), ("trainer", 403), (None, 302)])
def test_xlsx_export_needs_a_manager(setup, client, login_as, make_user, role, status):
    if role:
        login_as(make_user(role, agency=setup["agency"] if role == "officer" else None))
    assert client.get("/agency/export.xlsx").status_code == status


def test_officer_without_a_unit_exports(setup, client, login_as, make_user):
    officer = make_user("officer", agency=setup["agency"], name="No Unit")
    create_assignment(setup["manager"], setup["course"].id, date(2020, 1, 1), "none", None,
                      [], [officer.email])
    login_as(setup["manager"])
    response = client.get("/agency/export.xlsx")
    assert response.status_code == 200
    rows = sheet_rows(response.data)
    assert ("No Unit", officer.email, "") in [row[:3] for row in rows]
    assert rows == csv_rows(client.get("/agency/export.csv").data)
