"""Issue 11, managers: staff files from any spreadsheet, bulk invitations, assignments."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from learning.accounts.models import Unit, User
from learning.accounts.service import get_or_create_agency
from learning.agency.models import Assignment, AuditEntry
from learning.agency.reminders import OFFICER_DIGEST, queue_digests
from learning.agency.reminders_models import Notification
from learning.agency.service import PastDueDate, create_assignment
from learning.agency.staff_csv import parse_staff_csv, sniff_delimiter
from learning.agency.staff_import import StaffImportError, apply_import, preview_import
from learning.agency.staff_models import Invitation
from learning.catalogue.models import Course
from learning.core.sealed import unseal
from learning.extensions import db
from tests.conftest import PASSWORD


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
    assert "tick the box to create the new units" in refused.get_data(as_text=True)
    assert 'name="create_units"' in refused.get_data(as_text=True)  # asked again
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


# Assignments: changed and removed (audited), a past due date questioned.

@pytest.fixture
def course_id(synced) -> int:
    return db.session.scalar(sa.select(Course.id).order_by(Course.id))


def audit_rows(action_prefix: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action.like(action_prefix + "%")).order_by(AuditEntry.id)))


def test_a_past_due_date_is_questioned_then_assigned(s, course_id, client, login_as):
    login_as(s.manager)
    past = (date.today() - timedelta(days=3)).isoformat()
    form = {"course_id": course_id, "due_on": past, "recurrence": "none",
            "unit_ids": [s.north.id]}
    response = client.post("/agency/assignments/", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"The due date {past} is in the past" in page and "Assign anyway?" in page
    assert 'name="confirm_past" value="y"' in page
    assert f'value="{past}"' in page  # the manager's entries are kept
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0
    response = client.post("/agency/assignments/", data={**form, "confirm_past": "y"})
    assert response.status_code == 302
    assert [a.due_on.isoformat() for a in db.session.scalars(sa.select(Assignment))] == [past]


def test_a_wrong_email_is_reported_before_a_past_date_is_questioned(s, course_id, client,
                                                                     login_as):
    login_as(s.manager)
    past = (date.today() - timedelta(days=3)).isoformat()
    page = client.post("/agency/assignments/", data={
        "course_id": course_id, "due_on": past, "recurrence": "none",
        "officer_emails": "nobody@example.org"}).get_data(as_text=True)
    assert "nobody@example.org" in page and "Assign anyway?" not in page
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


def test_service_refuses_a_past_date_unless_allowed(s, course_id):
    yesterday = date(2030, 5, 1)
    with pytest.raises(PastDueDate):
        create_assignment(s.manager, course_id, date(2030, 4, 30), "none", None,
                          [s.north.id], [], allow_past=False, today=yesterday)
    assert create_assignment(s.manager, course_id, date(2030, 5, 1), "none", None,
                             [s.north.id], [], allow_past=False, today=yesterday).id


def test_an_assignment_is_changed_and_audited(s, course_id, client, login_as, make_user,
                                              make_unit):
    south = make_unit(s.agency, "South Station")
    officer = make_user("officer", agency=s.agency, unit=south, email="ana@a.test")
    assignment = create_assignment(s.manager, course_id, date(2031, 1, 31), "none", None,
                                   [s.north.id], [])
    login_as(s.manager)
    page = client.get(f"/agency/assignments/{assignment.id}/").get_data(as_text=True)
    assert 'value="2031-01-31"' in page and "Remove this assignment" in page
    assert re.search(rf'checked[^>]*value="{s.north.id}"|value="{s.north.id}"[^>]*checked',
                     page)
    response = client.post(f"/agency/assignments/{assignment.id}/", data={
        "course_id": course_id, "due_on": "2031-03-31", "recurrence": "months",
        "every_months": "24", "unit_ids": [s.north.id, south.id],
        "officer_emails": "ana@a.test\n"})
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(Assignment, assignment.id)
    assert (changed.due_on, changed.recurrence, changed.every_months) == (
        date(2031, 3, 31), "months", 24)
    assert sorted((t.unit_id or 0, t.user_id or 0) for t in changed.targets) == sorted(
        [(s.north.id, 0), (south.id, 0), (0, officer.id)])
    [entry] = audit_rows("assignment.update")
    assert entry.details["before"]["due_on"] == "2031-01-31"
    assert entry.details["after"]["officers"] == ["ana@a.test"]
    assert entry.details["after"]["units"] == sorted([s.north.id, south.id])
    # Saving it unchanged writes no audit row.
    client.post(f"/agency/assignments/{assignment.id}/", data={
        "course_id": course_id, "due_on": "2031-03-31", "recurrence": "months",
        "every_months": "24", "unit_ids": [s.north.id, south.id],
        "officer_emails": "ana@a.test"})
    assert len(audit_rows("assignment.update")) == 1


def test_an_assignment_is_removed_and_audited(s, course_id, client, login_as):
    assignment = create_assignment(s.manager, course_id, date(2031, 1, 31), "none", None,
                                   [s.north.id], [])
    login_as(s.manager)
    response = client.post(f"/agency/assignments/{assignment.id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).active is False
    assert "Nothing assigned yet." in client.get("/agency/assignments/").get_data(as_text=True)
    assert [e.target for e in audit_rows("assignment.remove")] == [
        f"assignment {assignment.id}"]
    assert client.get(f"/agency/assignments/{assignment.id}/").status_code == 404
    assert client.post(f"/agency/assignments/{assignment.id}/remove").status_code == 404


def test_others_cannot_change_or_remove_an_assignment(s, course_id, client, login_as,
                                                      make_user, make_unit):
    south = make_unit(s.agency, "South Station")
    assignment = create_assignment(s.manager, course_id, date(2031, 1, 31), "none", None,
                                   [south.id], [])
    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    for intruder in (make_user("manager", agency=other), s.unit_manager):
        login_as(intruder)
        assert client.get(f"/agency/assignments/{assignment.id}/").status_code == 404
        assert client.post(f"/agency/assignments/{assignment.id}/remove").status_code == 404
        assert client.post(f"/agency/assignments/{assignment.id}/", data={
            "course_id": course_id, "due_on": "2031-03-31", "recurrence": "none",
            "unit_ids": [s.north.id]}).status_code == 404
        client.post("/logout")
    db.session.expire_all()
    kept = db.session.get(Assignment, assignment.id)
    assert kept.active and kept.due_on == date(2031, 1, 31)
    assert audit_rows("assignment.update") == audit_rows("assignment.remove") == []


def test_the_recurrence_field_is_a_fieldset_with_a_hint_and_a_script(s, client, login_as):
    login_as(s.manager)
    page = client.get("/agency/assignments/").get_data(as_text=True)
    fieldset = page[page.index('<fieldset class="recurrence">'):page.index("</fieldset>")]
    assert "<legend>Repeat</legend>" in fieldset and 'id="every-months-field"' in fieldset
    assert "Only for &#34;Again every N months after completion&#34;" in fieldset or \
        "Only for \"Again every N months after completion\"" in fieldset
    assert "/static/js/assignment-form.js" in page and "<script>" not in page


# Invitations by e-mail, several at once; reminders only to those who can sign in.

def outbox_for(user: User) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).where(
        Notification.user_id == user.id).order_by(Notification.id)))


def test_ticked_officers_get_invitation_emails(s, app, client, login_as, make_user):
    app.config["BASE_URL"] = "https://waymark.example"
    new = [make_user("officer", agency=s.agency, unit=s.north, email=f"new{n}@a.test",
                     name=f"New {n}") for n in range(2)]
    for officer in new:
        officer.password_hash = None
    using = make_user("officer", agency=s.agency, unit=s.north, name="Has Password")
    db.session.commit()
    login_as(s.manager)
    page = client.get("/agency/staff/").get_data(as_text=True)
    assert 'id="bulk-invite"' in page and "Send invitation e-mails" in page
    assert f'form="bulk-invite" name="officer_id" value="{new[0].id}"' in page
    assert f'value="{using.id}"' not in page  # nobody can be invited into an account in use
    response = client.post("/agency/staff/invitations", data={
        "officer_id": [str(new[0].id), str(new[1].id), str(using.id)]})
    assert response.status_code == 302
    listing = client.get("/agency/staff/").get_data(as_text=True)
    assert "Invitation e-mails are on their way to New 0, New 1." in listing
    assert "Not invited: Has Password." in listing
    for officer in new:
        [mail] = outbox_for(officer)
        body = unseal(mail.body)
        assert mail.kind == "invitation" and "choose your password" in body
        assert "/invite/" not in mail.body  # sealed in the database until it is sent
        link = re.search(r"https://waymark\.example/invite/(\S+)", body)
        assert link, body
        assert client.get(f"/invite/{link.group(1)}").status_code == 200
    assert outbox_for(using) == []
    assert len(db.session.scalars(sa.select(Invitation)).all()) == 2


def test_bulk_invitations_refuse_bad_input_and_other_agencies(s, client, login_as, make_user):
    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    stranger = make_user("officer", agency=other, password=PASSWORD)
    stranger.password_hash = None
    db.session.commit()
    login_as(s.manager)
    assert client.post("/agency/staff/invitations",
                       data={"officer_id": ["1", "x"]}).status_code == 400
    response = client.post("/agency/staff/invitations", data={"officer_id": [str(stranger.id)]})
    assert response.status_code == 302
    assert "1 of the selected officers could not be found." in client.get(
        "/agency/staff/").get_data(as_text=True)
    assert client.post("/agency/staff/invitations").status_code == 302
    assert outbox_for(stranger) == [] and db.session.scalars(sa.select(Invitation)).all() == []


def test_the_link_page_offers_a_copy_button_and_selectable_text(s, client, login_as,
                                                                make_user):
    officer = make_user("officer", agency=s.agency, unit=s.north)
    officer.password_hash = None
    db.session.commit()
    login_as(s.manager)
    page = client.post(f"/agency/staff/{officer.id}/invite").get_data(as_text=True)
    link = re.search(r'id="invite-link" type="text" readonly value="([^"]+)"', page).group(1)
    assert f'<p class="link-text"><code>{link}</code></p>' in page
    assert 'data-copy="invite-link"' in page and "/static/js/copy-link.js" in page


def test_reminders_carry_a_sign_in_link_and_skip_who_cannot_sign_in(s, app, course_id,
                                                                    make_user):
    app.config["BASE_URL"] = "https://waymark.example"
    can = make_user("officer", agency=s.agency, unit=s.north, name="Can Sign In")
    cannot = make_user("officer", agency=s.agency, unit=s.north, name="No Password")
    cannot.password_hash = None
    db.session.commit()
    create_assignment(s.manager, course_id, date(2030, 1, 10), "none", None, [s.north.id], [])
    queue_digests(date(2030, 1, 7))
    [digest] = [n for n in outbox_for(can) if n.kind == OFFICER_DIGEST]
    assert "https://waymark.example/login?next=/progress/" in digest.body
    assert outbox_for(cannot) == []
