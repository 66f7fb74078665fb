"""Staff: CSV import (every problem by line, all or nothing, idempotent), invitations,
deactivation, and that a manager reaches only the officers they may see."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from learning.accounts.models import User
from learning.accounts.service import get_or_create_agency
from learning.agency import compliance
from learning.agency.models import AuditEntry
from learning.agency.service import create_assignment
from learning.agency.staff import (
    InvitationError,
    OfficerNotFound,
    StaffError,
    accept_invitation,
    create_invitation,
    deactivate_officer,
    list_staff,
    reactivate_officer,
)
from learning.agency.staff_import import (
    MAX_IMPORT_BYTES,
    StaffImportError,
    apply_import,
    parse_staff_csv,
    preview_import,
)
from learning.agency.staff_models import Invitation, PendingStaffImport
from learning.catalogue.models import Course
from learning.extensions import db
from learning.progress.models import LessonProgress
from tests.conftest import PASSWORD, csrf_token_from

NEW_PASSWORD = "a-long-new-password"


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


GOOD = csv_bytes("email,name,unit",
                 "ana@a.test,Ana Silva,North Post",
                 "ben@a.test,Ben Okafor,South Station",
                 "cleo@a.test,Cleo Marsh,North Post")


@pytest.fixture
def s(app_ctx, agency, make_unit, make_user):
    north, south = make_unit(agency, "North Post"), make_unit(agency, "South Station")
    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    b_unit = make_unit(other, "North Post")
    return SimpleNamespace(
        agency=agency, north=north, south=south, other=other,
        manager=make_user("manager", agency=agency, email="boss@a.test"),
        unit_manager=make_user("manager", agency=agency, unit=north, email="north.boss@a.test"),
        b_manager=make_user("manager", agency=other, email="boss@b.test"),
        b_officer=make_user("officer", agency=other, unit=b_unit, email="bea@b.test"),
    )


def users_snapshot() -> list[tuple]:
    db.session.expire_all()
    return [tuple(row) for row in db.session.execute(
        sa.select(User.id, User.email, User.display_name, User.unit_id, User.agency_id,
                  User.role, User.active, User.password_hash).order_by(User.id))]


def audit_actions() -> list[str]:
    """Audited actions in order, without sign-ins, sign-outs and the catalogue's publishing."""
    return list(db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.action.not_like("auth.%"), AuditEntry.action.not_like("content.%"))
        .order_by(AuditEntry.id)))


def upload(client, data: bytes, name: str = "staff.csv"):
    return client.post("/agency/staff/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm_fields(html: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" type="hidden" value="([^"]+)"', html).group(1)
            for name in ("pending_id", "sha256")}


# Parsing: every problem, with its line, before anything touches the database.

def test_every_bad_row_is_reported_with_its_line():
    data = csv_bytes(
        "email,name,unit",                      # 1
        "ana@a.test,Ana Silva,North Post",      # 2
        "ben@a.test,Ben Okafor",                # 3 two values
        "cleo@a.test,Cleo,North Post,extra",    # 4 four values
        "not-an-email,Dan,North Post",          # 5
        "",                                     # 6 blank: skipped
        "ANA@a.test , Ana again ,North Post",   # 7 duplicate of line 2
        ",Eve,North Post",                      # 8
        'fay@a.test,"Fay',                      # 9 a quoted name over two lines
        'Jones",North Post',                    # 10
        "gus@a.test,,",                         # 11
        "hal@a.test,Hal Ng,South Station",      # 12
    )
    parsed = parse_staff_csv(data)
    assert [str(p) for p in parsed.problems] == [
        "line 3: expected 3 values (email, name, unit), found 2.",
        "line 4: expected 3 values (email, name, unit), found 4.",
        "line 5: 'not-an-email' is not a valid email address.",
        "line 7: 'ana@a.test' already appears on line 2.",
        "line 8: the email is missing.",
        "line 9: The name contains a control character (U+000A) such as a tab or line break; "
        "type it on one line.",
        "line 11: the name is missing.",
        "line 11: the unit is missing.",
    ]
    assert [(r.line, r.email, r.name, r.unit) for r in parsed.rows] == [
        (2, "ana@a.test", "Ana Silva", "North Post"),
        (12, "hal@a.test", "Hal Ng", "South Station"),
    ]


@pytest.mark.parametrize("data,message", [
    (b"", "line 1: the first line must name the columns email, name and unit (found: nothing)."),
    (csv_bytes("ana@a.test,Ana,North Post"), "line 1: the first line must name the columns"),
    (csv_bytes("email,name"), "(found: email, name)"),
    (csv_bytes("email,name,unit,role"), "(found: email, name, unit, role)"),
    (csv_bytes("email,email,unit"), "(found: email, email, unit)"),
    (csv_bytes("email,name,unit"), "The file lists no officers after its header."),
])
def test_the_header_is_required(data, message):
    problems = [str(p) for p in parse_staff_csv(data).problems]
    assert len(problems) == 1 and message in problems[0]


def test_bom_crlf_and_column_order_are_accepted():
    data = "\ufeffName , UNIT,Email\r\nAna Silva,North Post,ana@a.test\r\n".encode()
    parsed = parse_staff_csv(data)
    assert parsed.problems == []
    assert [(r.line, r.email, r.name, r.unit) for r in parsed.rows] == [
        (2, "ana@a.test", "Ana Silva", "North Post")]


def test_non_utf8_is_refused_with_its_line():
    data = csv_bytes("email,name,unit", "ana@a.test,Ana,North Post",
                     "jose@a.test,José Peña,North Post", encoding="latin-1")
    problems = [str(p) for p in parse_staff_csv(data).problems]
    assert problems == ['line 3: the file is not UTF-8 text. Save it from your spreadsheet '
                        'as "CSV UTF-8" and upload it again.']


def test_files_over_the_size_limit_are_refused():
    rows = (f"officer{n:07d}@a.test,Officer {n:07d},North Post\n" for n in range(200_000))
    data = ("email,name,unit\n" + "".join(rows)).encode()[:MAX_IMPORT_BYTES + 1]
    problems = [str(p) for p in parse_staff_csv(data).problems]
    assert problems == ["The file is larger than 5 MB. Split it into smaller files and import "
                        "each one."]
    assert parse_staff_csv(data[:MAX_IMPORT_BYTES].rsplit(b"\n", 1)[0]).problems == []


# Preview and apply: against the database, all or nothing, idempotent.

def test_preview_checks_units_and_accounts_and_writes_nothing(s):
    before = users_snapshot()
    data = csv_bytes("email,name,unit",
                     "ana@a.test,Ana Silva,north post",        # unit matched ignoring case
                     "ben@a.test,Ben Okafor,Harbour Office",   # no such unit
                     "bea@b.test,Bea,North Post",              # agency B's officer
                     "boss@a.test,The Boss,North Post")        # a manager, not an officer
    preview = preview_import(s.manager, data)
    assert [str(p) for p in preview.problems] == [
        "line 3: there is no unit named 'Harbour Office' in your agency.",
        "line 5: 'boss@a.test' belongs to an account that is not an officer's; the import "
        "only adds and updates officers.",
    ]
    # Agency B's officer looks exactly like a new one (tests/test_account_lifecycle.py).
    assert [(p.row.email, p.unit.name) for p in preview.create] == [
        ("ana@a.test", "North Post"), ("bea@b.test", "North Post")]
    with pytest.raises(StaffImportError) as refused:
        apply_import(s.manager, data)
    assert len(refused.value.problems) == 2
    assert users_snapshot() == before
    assert audit_actions() == []


def test_apply_is_all_or_nothing_and_idempotent(s, make_user):
    existing = make_user("officer", agency=s.agency, unit=s.south, email="cleo@a.test",
                         name="Cleo Marsh")
    result = apply_import(s.manager, GOOD)
    assert (len(result.create), len(result.update), len(result.unchanged)) == (2, 1, 0)
    officers = {u.email: u for u in db.session.scalars(
        sa.select(User).where(User.agency_id == s.agency.id, User.role == "officer"))}
    assert {e: (u.display_name, u.unit_id, u.password_hash, u.active)
            for e, u in officers.items()} == {
        "ana@a.test": ("Ana Silva", s.north.id, None, True),
        "ben@a.test": ("Ben Okafor", s.south.id, None, True),
        "cleo@a.test": ("Cleo Marsh", s.north.id, existing.password_hash, True),
    }
    assert officers["cleo@a.test"].id == existing.id
    after_first = users_snapshot()
    again = apply_import(s.manager, GOOD)
    assert (len(again.create), len(again.update), len(again.unchanged)) == (0, 0, 3)
    assert users_snapshot() == after_first
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.details["created"], e.details["updated"]) for e in entries] == [
        ("staff.import", 2, 1), ("staff.import", 0, 0)]
    assert entries[0].details["sha256"] == hashlib.sha256(GOOD).hexdigest()


def test_preview_then_confirm_over_http(s, client, login_as):
    login_as(s.manager)
    before = users_snapshot()
    page = upload(client, GOOD).get_data(as_text=True)
    assert "3 officers to add, 0 to update, 0 unchanged" in page
    assert "ana@a.test" in page and "Cleo Marsh" in page
    assert users_snapshot() == before  # the preview saves no officer
    fields = confirm_fields(page)
    assert fields["sha256"] == hashlib.sha256(GOOD).hexdigest()
    response = client.post("/agency/staff/import/confirm", data=fields)
    assert response.status_code == 302 and response.headers["Location"] == "/agency/staff/"
    listing = client.get("/agency/staff/").get_data(as_text=True)
    assert "Import done: 3 officers added, 0 updated, 0 unchanged." in listing
    assert listing.index("North Post") < listing.index("Ana Silva") < listing.index("Cleo")
    assert listing.index("South Station") < listing.index("Ben Okafor")
    assert db.session.scalar(sa.select(sa.func.count(PendingStaffImport.id))) == 0
    # The confirmation cannot be replayed, and re-importing the file changes nothing.
    after = users_snapshot()
    assert client.post("/agency/staff/import/confirm", data=fields).status_code == 422
    page = upload(client, GOOD).get_data(as_text=True)
    assert "0 officers to add, 0 to update, 3 unchanged" in page
    assert client.post("/agency/staff/import/confirm",
                       data=confirm_fields(page)).status_code == 302
    assert users_snapshot() == after
    # A changed file updates exactly the changed officers.
    changed = GOOD.replace(b"Ben Okafor,South Station", b"Ben Okafor,North Post")
    page = upload(client, changed).get_data(as_text=True)
    assert "0 officers to add, 1 to update, 2 unchanged" in page
    assert "South Station → North Post" in page
    client.post("/agency/staff/import/confirm", data=confirm_fields(page))
    ben = db.session.scalar(sa.select(User).where(User.email == "ben@a.test"))
    assert ben.unit_id == s.north.id
    assert audit_actions() == ["staff.import"] * 3


def test_a_bad_file_imports_nothing_over_http(s, client, login_as):
    login_as(s.manager)
    before = users_snapshot()
    bad = GOOD + csv_bytes("bad-email,Dan,North Post", "ana@a.test,Ana,North Post",
                           "eve@a.test,Eve,Nowhere")
    response = upload(client, bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("line 5: &#39;bad-email&#39; is not a valid email address.",
                    "line 6: &#39;ana@a.test&#39; already appears on line 2."):
        assert message in page
    assert "line 7" not in page  # a missing unit is offered for creation, not refused
    assert 'name="pending_id"' not in page
    response = upload(client, "email,name,unit\nzoë@a.test,Zoë,North Post\n".encode("cp1252"))
    assert response.status_code == 422 and "not UTF-8" in response.get_data(as_text=True)
    big = b"email,name,unit\n" + b"x" * MAX_IMPORT_BYTES
    response = upload(client, big)
    assert response.status_code == 422
    assert "larger than 5 MB" in response.get_data(as_text=True)
    assert users_snapshot() == before
    assert db.session.scalar(sa.select(sa.func.count(PendingStaffImport.id))) == 0


def test_a_confirmation_must_match_its_upload_and_its_uploader(s, client, login_as):
    login_as(s.manager)
    fields = confirm_fields(upload(client, GOOD).get_data(as_text=True))
    before = users_snapshot()
    tampered = dict(fields, sha256=hashlib.sha256(b"other").hexdigest())
    response = client.post("/agency/staff/import/confirm", data=tampered)
    assert response.status_code == 422
    assert "no longer available" in response.get_data(as_text=True)
    client.post("/logout")
    login_as(s.unit_manager)
    assert client.post("/agency/staff/import/confirm", data=fields).status_code == 422
    assert users_snapshot() == before


def test_new_officers_of_an_assigned_unit_are_assigned(s, synced):
    course = db.session.scalar(sa.select(Course))
    create_assignment(s.manager, course.id, date(2030, 1, 1), "none", None, [s.north.id], [])
    assert compliance.snapshot(s.manager, date(2029, 1, 1), 90) == []
    apply_import(s.manager, GOOD)
    rows = compliance.snapshot(s.manager, date(2029, 1, 1), 90)
    assert sorted(r.officer.name for r in rows) == ["Ana Silva", "Cleo Marsh"]


def test_confirming_without_the_new_units_box_asks_again_and_imports_nothing(s, client,
                                                                            login_as):
    login_as(s.manager)
    before = users_snapshot()
    page = upload(client, csv_bytes("email,name,unit", "eve@a.test,Eve Stone,East Gate"))
    fields = confirm_fields(page.get_data(as_text=True))
    response = client.post("/agency/staff/import/confirm", data=fields)  # box not ticked
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "tick the box to create the new units" in html
    assert "East Gate" in html and 'name="create_units"' in html  # the same preview again
    assert "Correct it and upload the file again" not in html
    assert users_snapshot() == before
    done = client.post("/agency/staff/import/confirm", data={**confirm_fields(html),
                                                             "create_units": "y"})
    assert done.status_code == 302 and users_snapshot() != before


# Unit managers and other agencies.

def test_a_unit_manager_sees_and_imports_only_their_unit(s, client, login_as, make_user):
    make_user("officer", agency=s.agency, unit=s.south, email="sam@a.test", name="Sam South")
    make_user("officer", agency=s.agency, unit=s.north, email="nia@a.test", name="Nia North")
    data = csv_bytes("email,name,unit",
                     "ana@a.test,Ana Silva,North Post",
                     "ben@a.test,Ben Okafor,South Station",
                     "sam@a.test,Sam South,North Post")
    assert [str(p) for p in preview_import(s.unit_manager, data).problems] == [
        "line 3: you can only import officers into your own unit, 'North Post'.",
        "line 4: 'sam@a.test' belongs to someone outside your unit.",
    ]
    login_as(s.unit_manager)
    assert upload(client, data).status_code == 422
    page = upload(client, csv_bytes("email,name,unit", "ana@a.test,Ana Silva,North Post"))
    client.post("/agency/staff/import/confirm", data=confirm_fields(page.get_data(as_text=True)))
    listing = client.get("/agency/staff/").get_data(as_text=True)
    assert "Ana Silva" in listing and "Nia North" in listing
    assert "Sam South" not in listing and "South Station" not in listing
    groups = list_staff(s.unit_manager)
    assert [(g.unit.name, [e.officer.display_name for e in g.officers]) for g in groups] == [
        ("North Post", ["Ana Silva", "Nia North"])]


def test_a_manager_cannot_reach_another_agencys_officers_by_any_id(s, client, login_as,
                                                                   make_user):
    a_officer = make_user("officer", agency=s.agency, unit=s.north, name="Ana Silva")
    south_officer = make_user("officer", agency=s.agency, unit=s.south, name="Sol South")
    login_as(s.b_manager)
    listing = client.get("/agency/staff/").get_data(as_text=True)
    assert "bea@b.test" in listing  # B's own officer is listed
    assert "Ana Silva" not in listing and "Sol South" not in listing
    ids = db.session.scalars(sa.select(User.id)).all()
    for user_id in [*ids, max(ids) + 1]:
        if user_id == s.b_officer.id:
            continue
        for action in ("invite", "deactivate", "reactivate"):
            response = client.post(f"/agency/staff/{user_id}/{action}")
            assert response.status_code == 404, (action, user_id)
        with pytest.raises(OfficerNotFound):
            create_invitation(s.b_manager, user_id)
        with pytest.raises(OfficerNotFound):
            deactivate_officer(s.b_manager, user_id)
    # A unit manager cannot reach an officer of another unit of their own agency either.
    with pytest.raises(OfficerNotFound):
        deactivate_officer(s.unit_manager, south_officer.id)
    db.session.expire_all()
    assert all(u.active for u in db.session.scalars(sa.select(User)))
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0
    assert audit_actions() == []
    assert client.post(f"/agency/staff/{s.b_officer.id}/deactivate").status_code == 302
    assert db.session.get(User, a_officer.id).active


ROLES = ["anonymous", "officer", "trainer", "manager", "admin"]


@pytest.mark.parametrize("method,url,expected", [
    ("get", "/agency/staff/", (302, 403, 403, 200, 403)),
    ("get", "/agency/staff/import", (302, 403, 403, 200, 403)),
    ("post", "/agency/staff/import/confirm", (302, 403, 403, 400, 403)),
    ("post", "/agency/staff/1/invite", (302, 403, 403, 404, 403)),
    ("post", "/agency/staff/1/deactivate", (302, 403, 403, 404, 403)),
])
@pytest.mark.parametrize("role", ROLES)
def test_staff_pages_are_for_agency_managers(client, make_user, login_as, role, method, url,
                                             expected):
    if role != "anonymous":
        login_as(make_user(role))
    response = getattr(client, method)(url)
    assert response.status_code == expected[ROLES.index(role)], f"{role} {method} {url}"


# Invitations.

def test_invitation_sets_a_password_once(s, client, login_as, make_user):
    officer = make_user("officer", agency=s.agency, unit=s.north, email="ana@a.test")
    officer.password_hash = None
    db.session.commit()
    login_as(s.manager)
    response = client.post(f"/agency/staff/{officer.id}/invite")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    token = re.search(r'value="http://127.0.0.1:5000/invite/([A-Za-z0-9_-]+)"', page).group(1)
    invitation = db.session.scalar(sa.select(Invitation))
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(db.session.scalar(sa.select(AuditEntry.details)))
    assert (invitation.user_id, invitation.created_by, invitation.used_at) == (
        officer.id, s.manager.id, None)
    assert "Invited" in client.get("/agency/staff/").get_data(as_text=True)
    client.post("/logout")

    form = client.get(f"/invite/{token}")
    assert form.status_code == 200 and form.headers["Referrer-Policy"] == "no-referrer"
    short = client.post(f"/invite/{token}", data={"password": "short", "confirm": "short"})
    assert "at least 10 characters" in short.get_data(as_text=True)
    differ = client.post(f"/invite/{token}", data={"password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD + "x"})
    assert "The two passwords differ." in differ.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).used_at is None
    response = client.post(f"/invite/{token}", data={"password": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    login_as(officer, NEW_PASSWORD)
    client.post("/logout")

    reused = client.post(f"/invite/{token}", data={"password": "another-password-1",
                                                   "confirm": "another-password-1"})
    assert reused.status_code == 410
    assert "already been used" in reused.get_data(as_text=True)
    login_as(officer, NEW_PASSWORD)  # the reuse changed nothing
    assert audit_actions() == ["invitation.create", "invitation.accept"]


def never_signed_in(officer: User) -> User:
    """An officer as the import creates them: no password, never signed in."""
    officer.password_hash = None
    db.session.commit()
    return officer


def test_invitation_errors_are_clear(s, make_user, client):
    officer = never_signed_in(make_user("officer", agency=s.agency, unit=s.north))
    _expired, expired = create_invitation(s.manager, officer.id, timedelta(seconds=-1))
    with pytest.raises(InvitationError, match="has expired"):
        accept_invitation(expired, NEW_PASSWORD)
    response = client.get(f"/invite/{expired}")
    assert response.status_code == 410 and "has expired" in response.get_data(as_text=True)
    first, old = create_invitation(s.manager, officer.id)
    _second, new = create_invitation(s.manager, officer.id)
    with pytest.raises(InvitationError, match="withdrawn: a newer one was created"):
        accept_invitation(old, NEW_PASSWORD)
    with pytest.raises(InvitationError, match="not valid") as unknown:
        accept_invitation(new[:-2], NEW_PASSWORD)
    assert unknown.value.status == 404
    assert accept_invitation(new, NEW_PASSWORD).id == officer.id
    with pytest.raises(InvitationError, match="already been used"):
        accept_invitation(new, "yet-another-password")
    for token, status, text in [(old, 410, "withdrawn"), ("nope" * 10, 404, "not valid"),
                                (new, 410, "already been used")]:
        response = client.get(f"/invite/{token}")
        assert response.status_code == status and text in response.get_data(as_text=True)
    assert db.session.get(Invitation, first.id).used_at is None


def test_deactivation_revokes_invitations(s, make_user):
    officer = never_signed_in(make_user("officer", agency=s.agency, unit=s.north))
    password_hash = officer.password_hash
    _invitation, token = create_invitation(s.manager, officer.id)
    deactivate_officer(s.manager, officer.id)
    with pytest.raises(InvitationError, match="This account is deactivated"):
        accept_invitation(token, NEW_PASSWORD)
    with pytest.raises(StaffError, match="Reactivate this officer"):
        create_invitation(s.manager, officer.id)
    reactivate_officer(s.manager, officer.id)
    with pytest.raises(InvitationError, match="withdrawn"):
        accept_invitation(token, NEW_PASSWORD)
    assert db.session.get(User, officer.id).password_hash == password_hash


# Deactivation.

def test_deactivation_keeps_history_and_blocks_sign_in(s, synced, client, login_as, make_user):
    officer = make_user("officer", agency=s.agency, unit=s.north, name="Ana Silva")
    login_as(officer)
    client.post("/courses/field-basics/first-steps/")
    progress = db.session.scalars(sa.select(LessonProgress.id)
                                  .where(LessonProgress.user_id == officer.id)).all()
    assert len(progress) == 1
    deactivate_officer(s.manager, officer.id)
    # The open session ends, and signing in again is refused.
    assert client.get("/courses/").status_code == 302
    assert client.post("/login", data={"email": officer.email,
                                       "password": PASSWORD}).status_code == 401
    assert db.session.scalars(sa.select(LessonProgress.id)
                              .where(LessonProgress.user_id == officer.id)).all() == progress
    staff = {e.officer.id: e.status for g in list_staff(s.manager) for e in g.officers}
    assert staff[officer.id] == "deactivated"
    reactivate_officer(s.manager, officer.id)
    login_as(officer)
    assert audit_actions() == ["staff.deactivate", "staff.reactivate"]


def test_deactivate_buttons_over_http_need_csrf(s, app, client, login_as, make_user):
    officer = make_user("officer", agency=s.agency, unit=s.north, name="Ana Silva")
    login_as(s.manager)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/agency/staff/{officer.id}/deactivate").status_code == 400
    token = csrf_token_from(client.get("/agency/staff/").get_data(as_text=True))
    response = client.post(f"/agency/staff/{officer.id}/deactivate",
                           data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, officer.id).active
    page = client.get("/agency/staff/").get_data(as_text=True)
    assert "Ana Silva is deactivated and can no longer sign in." in page
    assert "Reactivate" in page
    client.post(f"/agency/staff/{officer.id}/reactivate", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(User, officer.id).active
    # The import's two forms carry their tokens too.
    page = client.get("/agency/staff/import").get_data(as_text=True)
    preview = client.post("/agency/staff/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO(GOOD), "staff.csv"), "csrf_token": csrf_token_from(page)})
    html = preview.get_data(as_text=True)
    confirm = html[html.index('action="/agency/staff/import/confirm"'):]
    response = client.post("/agency/staff/import/confirm", data=dict(
        confirm_fields(html), csrf_token=csrf_token_from(confirm)))
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(
        User.email.in_(["ana@a.test", "ben@a.test", "cleo@a.test"]))) == 3
