"""Issue 11, managers: exports that open cleanly in spreadsheet programs."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from learning.agency.service import create_assignment
from learning.catalogue.models import Course
from learning.certificates.models import Certificate
from learning.extensions import db
from learning.timeutil import utcnow
from tests.test_certificates import pass_final, read_all_lessons

HEADER = ["Officer", "Email", "Unit", "Course", "State", "Due on", "Completed on",
          "Score (%)", "Certificate expires on"]


@pytest.fixture
def s(synced, agency, make_unit, make_user, client, login_as):
    """A manager, a certified officer with an accented name, one not started, one hostile."""
    north = make_unit(agency, "North Post")
    manager = make_user("manager", agency=agency)
    certified = make_user("officer", agency=agency, unit=north, name="Zoë Ångström")
    waiting = make_user("officer", agency=agency, unit=north, name="Noor Idle")
    make_user("officer", agency=agency, unit=north, name='=HYPERLINK("http://x","y")')
    course = db.session.scalar(sa.select(Course))
    due = utcnow().date() + timedelta(days=200)
    create_assignment(manager, course.id, due, "none", None, [north.id], [])
    db.session.commit()
    login_as(certified)
    read_all_lessons(client)
    pass_final(client)
    client.post("/logout")
    certificate = db.session.scalars(sa.select(Certificate)).one()
    return SimpleNamespace(manager=manager, certified=certified, waiting=waiting, due=due,
                           certificate=certificate)


def csv_rows(data: bytes) -> dict[str, list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    return {row[0]: row for row in rows[1:]}


def test_csv_opens_cleanly_with_labels_and_certificate_columns(s, client, login_as):
    login_as(s.manager)
    response = client.get("/agency/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel looks for
    assert not response.data.startswith(b"\xef\xbb\xbf" * 2)
    rows = csv_rows(response.data)
    cert = s.certificate
    assert cert.score is not None and cert.expires_on is not None
    assert rows["Zoë Ångström"][4:] == [
        "Completed", s.due.isoformat(), cert.issued_on.isoformat(), str(round(cert.score)),
        cert.expires_on.isoformat()]
    assert rows["Noor Idle"][4:] == ["Not started", s.due.isoformat(), "", "", ""]
    assert rows["'=HYPERLINK(\"http://x\",\"y\")"][4] == "Not started"  # still neutralised
    # The page shows the same labels and the same certificate facts.
    page = client.get("/agency/").get_data(as_text=True)
    assert "Not started" in page and "not_started<" not in page
    assert f"completed {cert.issued_on.isoformat()}" in page
    assert f"score {round(cert.score)} %" in page
    assert f"certificate expires {cert.expires_on.isoformat()}" in page


def test_csv_filtered_by_state_uses_labels(s, client, login_as):
    login_as(s.manager)
    rows = csv_rows(client.get("/agency/export.csv?state=completed").data)
    assert list(rows) == ["Zoë Ångström"]
    assert rows["Zoë Ångström"][4] == "Completed"


def test_xlsx_has_labels_numbers_and_date_cells(s, client, login_as):
    login_as(s.manager)
    sheet = load_workbook(io.BytesIO(client.get("/agency/export.xlsx").data))["Compliance"]
    rows = list(sheet.iter_rows())
    assert [cell.value for cell in rows[0]] == HEADER
    by_name = {row[0].value: row for row in rows[1:]}
    cert = s.certificate
    done = by_name["Zoë Ångström"]
    assert done[4].value == "Completed" and done[4].data_type == "s"
    for cell, expected in ((done[5], s.due), (done[6], cert.issued_on),
                           (done[8], cert.expires_on)):
        assert cell.is_date and cell.value == datetime.combine(expected, datetime.min.time())
        assert cell.number_format == "yyyy-mm-dd"
    assert done[7].data_type == "n" and done[7].value == round(cert.score)
    idle = by_name["Noor Idle"]
    assert idle[4].value == "Not started"
    assert idle[5].is_date and [c.value for c in idle[6:]] == [None, None, None]
    hostile = by_name['=HYPERLINK("http://x","y")']
    assert hostile[0].data_type == "s" and hostile[0].quotePrefix

