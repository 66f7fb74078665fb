"""Issue 11, managers: staff files from any spreadsheet, bulk invitations, assignments."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from learning.accounts.models import Unit, User
from learning.agency.models import AuditEntry
from learning.agency.staff_csv import parse_staff_csv, sniff_delimiter
from learning.agency.staff_import import StaffImportError, apply_import, preview_import
from learning.extensions import db


@pytest.fixture
def s(app_ctx, agency, make_unit, make_user):
    north = make_unit(agency, "North Post")
    return SimpleNamespace(
        agency=agency, north=north,
        manager=make_user("manager", agency=agency, email="boss@a.test"),
        unit_manager=make_user("manager", agency=agency, unit=north, email="nb@a.test"),
    )


def upload(client, data: bytes, name: str = "staff.csv"):
    return client.post("/agency/staff/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm_fields(html: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" type="hidden" value="([^"]+)"', html).group(1)
            for name in ("pending_id", "sha256")}


def unit_names(agency_id: int) -> list[str]:
    return sorted(db.session.scalars(sa.select(Unit.name).where(Unit.agency_id == agency_id)))


# Staff files: commas or semicolons, a BOM, missing units created on confirmation.

@pytest.mark.parametrize("header, separator", [
    ("email,name,unit", ","), ("email;name;unit", ";"), ("\ufeffemail;name;unit", ";"),
    ("email;name,unit", ","),  # a tie is read as commas, whose error names the header
])
def test_the_delimiter_is_sniffed_from_the_header(header, separator):
    assert sniff_delimiter(header) == separator


def test_a_semicolon_file_with_a_bom_and_commas_in_names_is_read():
    data = ("\ufeffEmail;Name;Unit\r\n"
            "ana@a.test;Silva, Ana;North Post\r\n"
            "ben@a.test;\"Okafor; Ben\";South Station\r\n").encode("utf-8")
    parsed = parse_staff_csv(data)
    assert parsed.problems == []
    assert [(r.line, r.email, r.name, r.unit) for r in parsed.rows] == [
        (2, "ana@a.test", "Silva, Ana", "North Post"),
        (3, "ben@a.test", "Okafor; Ben", "South Station")]


def test_missing_units_are_created_only_when_confirmed(s):
    data = (b"email;name;unit\n" b"ana@a.test;Ana;North Post\n" b"ben@a.test;Ben;Harbour\n"
            b"cleo@a.test;Cleo;harbour\n" b"dan@a.test;Dan;Airport\n")
    offered = preview_import(s.manager, data, create_units=True)
    assert offered.ok and offered.missing_units == ["Airport", "Harbour"]
    assert [(p.row.email, p.unit_name) for p in offered.create] == [
        ("ana@a.test", "North Post"), ("ben@a.test", "Harbour"), ("cleo@a.test", "Harbour"),
        ("dan@a.test", "Airport")]
    with pytest.raises(StaffImportError) as refused:
        apply_import(s.manager, data)  # the box was not ticked: nothing changes
    assert [str(p) for p in refused.value.problems] == [
        "line 3: there is no unit named 'Harbour' in your agency.",
        "line 4: there is no unit named 'harbour' in your agency.",
        "line 5: there is no unit named 'Airport' in your agency."]
    assert unit_names(s.agency.id) == ["North Post"]
    apply_import(s.manager, data, create_units=True)
    assert unit_names(s.agency.id) == ["Airport", "Harbour", "North Post"]
    officers = dict(db.session.execute(sa.select(User.email, Unit.name).join(
        Unit, Unit.id == User.unit_id).where(User.role == "officer")).all())
    assert officers == {"ana@a.test": "North Post", "ben@a.test": "Harbour",
                        "cleo@a.test": "Harbour", "dan@a.test": "Airport"}
    audit = db.session.execute(sa.select(AuditEntry.action, AuditEntry.target).order_by(
        AuditEntry.id)).all()
    assert [tuple(a) for a in audit] == [("unit.create", "Airport"), ("unit.create", "Harbour"),
                                         ("staff.import", "4 created, 0 updated")]


def test_a_unit_manager_cannot_create_units(s):
    data = b"email,name,unit\nana@a.test,Ana,Harbour\n"
    preview = preview_import(s.unit_manager, data, create_units=True)
    assert preview.missing_units == []
    assert [str(p) for p in preview.problems] == [
        "line 2: there is no unit named 'Harbour' in your agency."]
    with pytest.raises(StaffImportError):
        apply_import(s.unit_manager, data, create_units=True)
    assert unit_names(s.agency.id) == ["North Post"]


def test_import_with_new_units_over_http(s, client, login_as):
    login_as(s.manager)
    data = "\ufeffemail;name;unit\r\nana@a.test;Ana Silva;Harbour\r\n".encode()
    page = upload(client, data).get_data(as_text=True)
    assert "1 officers to add" in page and "Units to create" in page
    assert 'name="create_units"' in page and "Create the unit Harbour" in page
    fields = confirm_fields(page)
    refused = client.post("/agency/staff/import/confirm", data=fields)
    assert refused.status_code == 422
    assert "there is no unit named &#39;Harbour&#39;" in refused.get_data(as_text=True)
    assert unit_names(s.agency.id) == ["North Post"]
    done = client.post("/agency/staff/import/confirm", data={**fields, "create_units": "y"})
    assert done.status_code == 302
    assert unit_names(s.agency.id) == ["Harbour", "North Post"]
    assert db.session.scalar(sa.select(User.display_name).where(
        User.email == "ana@a.test")) == "Ana Silva"


def test_the_template_downloads_and_imports_as_is(s, client, login_as):
    login_as(s.manager)
    response = client.get("/agency/staff/import/template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.splitlines() == ["email,name,unit",
                                 "officer@example.org,Firstname Lastname,North Post"]
    assert preview_import(s.manager, text.encode()).ok
    assert "/agency/staff/import/template.csv" in client.get(
        "/agency/staff/import").get_data(as_text=True)
