"""Time zones: each agency has one, each person may choose their own, every time shows it."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from learning.accounts.models import Agency, User
from learning.agency.service import create_assignment
from learning.audit.models import AuditEntry
from learning.catalogue.models import Course
from learning.core.localtime import format_local
from learning.extensions import db
from learning.timeutil import is_time_zone, today_in, utcnow, zone_name_for
from tests.test_assessments import attempt_row, start

HOSTILE_ZONES = ["Mars/Olympus_Mons", "../../etc/passwd", "europe/paris", "Europe/Paris\x00",
                 "UTC+2", "A" * 300, "<script>", "posixrules/../UTC", "Europe/Paris\u202e"]


def _zone_rows(action: str) -> list[AuditEntry]:
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


def test_resolution_order_is_own_then_agency_then_utc():
    assert zone_name_for("Asia/Tokyo", "Europe/Paris") == "Asia/Tokyo"
    assert zone_name_for(None, "Europe/Paris") == "Europe/Paris"
    assert zone_name_for("", "Europe/Paris") == "Europe/Paris"
    assert zone_name_for(None, None) == "UTC"
    assert zone_name_for("Nowhere/Atall", "Nor/This") == "UTC"  # a stale name never breaks


def test_user_zone_name_comes_from_the_user_then_the_agency(app_ctx, make_user, agency):
    agency.time_zone = "America/New_York"
    officer = make_user("officer", agency=agency)
    assert officer.time_zone_name == "America/New_York"
    officer.time_zone = "Europe/Paris"
    assert officer.time_zone_name == "Europe/Paris"
    assert make_user("admin").time_zone_name == "UTC"


@pytest.mark.parametrize(("stored", "expected"), [
    (datetime(2026, 12, 3, 13, 5), "3 Dec 2026, 14:05 CET"),      # winter: UTC+1
    (datetime(2026, 7, 3, 13, 5), "3 Jul 2026, 15:05 CEST"),      # summer: UTC+2
    (datetime(2026, 3, 29, 0, 59), "29 Mar 2026, 01:59 CET"),     # a minute before the change
    (datetime(2026, 3, 29, 1, 0), "29 Mar 2026, 03:00 CEST"),     # 02:00 local never happens
    (datetime(2026, 10, 25, 0, 30), "25 Oct 2026, 02:30 CEST"),   # 02:30 happens twice:
    (datetime(2026, 10, 25, 1, 30), "25 Oct 2026, 02:30 CET"),    # the zone tells them apart
])
def test_filter_shows_the_local_time_and_zone_across_dst(stored, expected):
    assert format_local(stored, "Europe/Paris") == expected


def test_filter_names_zones_without_an_abbreviation_and_crosses_the_date_line():
    assert format_local(datetime(2026, 7, 3, 22, 0), "Asia/Dubai") == "4 Jul 2026, 02:00 Asia/Dubai"
    assert format_local(datetime(2026, 7, 3, 22, 0), "UTC") == "3 Jul 2026, 22:00 UTC"
    assert format_local(datetime(2026, 7, 3, 22, 0), "America/New_York") == \
        "3 Jul 2026, 18:00 EDT"


def test_today_is_taken_in_the_zone():
    late_evening_utc = datetime(2026, 12, 31, 23, 30)
    assert today_in("UTC", late_evening_utc).isoformat() == "2026-12-31"
    assert today_in("Europe/Paris", late_evening_utc).isoformat() == "2027-01-01"
    assert today_in("America/Los_Angeles", late_evening_utc).isoformat() == "2026-12-31"


@pytest.mark.parametrize("value", HOSTILE_ZONES + [None, 3, "", " "])
def test_hostile_names_are_not_zones(value):
    assert not is_time_zone(value)


def test_officer_chooses_a_zone_and_the_attempt_deadline_shows_in_it(client, make_user,
                                                                     login_as, synced, agency):
    officer = make_user("officer", agency=agency)
    login_as(officer)
    page = client.get("/account/").get_data(as_text=True)
    assert 'list="time-zones"' in page and '<option value="Europe/Paris">' in page
    response = client.post("/account/", data={"time_zone": "Europe/Paris"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, officer.id).time_zone == "Europe/Paris"
    assert _zone_rows("account.time_zone")[-1].details == {"time_zone": "Europe/Paris"}
    attempt_id, location = start(client)
    attempt = attempt_row(attempt_id)
    year = utcnow().year + 1  # always ahead (a passed deadline ends the attempt), in winter
    attempt.deadline = datetime(year, 1, 15, 13, 5)  # 14:05 in Paris in winter
    db.session.commit()
    html = client.get(location).get_data(as_text=True)
    assert f"closes at 15 Jan {year}, 14:05 CET" in html
    assert " UTC" not in html


def test_empty_choice_falls_back_to_the_agency_zone(client, make_user, login_as, agency):
    agency.time_zone = "Asia/Tokyo"
    officer = make_user("officer", agency=agency)
    officer.time_zone = "Europe/Paris"
    db.session.commit()
    login_as(officer)
    assert client.post("/account/", data={"time_zone": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, officer.id).time_zone is None
    page = client.get("/account/").get_data(as_text=True)
    assert "Times are shown in Asia/Tokyo" in page and "JST" in page


@pytest.mark.parametrize("value", HOSTILE_ZONES)
def test_hostile_zone_is_refused_with_a_message_and_changes_nothing(client, make_user, login_as,
                                                                    agency, value):
    officer = make_user("officer", agency=agency)
    officer.time_zone = "Europe/Paris"
    db.session.commit()
    login_as(officer)
    response = client.post("/account/", data={"time_zone": value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert any(message in html for message in (
        "is not a time zone we know", "Field cannot be longer", "(a NUL byte)"))
    db.session.expire_all()
    assert db.session.get(User, officer.id).time_zone == "Europe/Paris"
    assert not _zone_rows("account.time_zone")


def test_manager_sets_the_agency_zone_and_officers_see_it(client, make_user, login_as, agency,
                                                         synced):
    manager = make_user("manager", agency=agency)
    officer = make_user("officer", agency=agency)
    login_as(manager)
    assert 'href="/agency/settings/"' in client.get("/agency/").get_data(as_text=True)
    response = client.post("/agency/settings/", data={"time_zone": "America/New_York"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).time_zone == "America/New_York"
    [row] = _zone_rows("agency.time_zone")
    assert row.details == {"time_zone": "America/New_York"} and row.agency_id == agency.id
    for bad in ("Mars/Olympus_Mons", ""):
        refused = client.post("/agency/settings/", data={"time_zone": bad})
        assert refused.status_code == 400
        assert "is not a time zone we know" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).time_zone == "America/New_York"
    client.post("/logout")
    login_as(officer)
    assert "Times are shown in America/New_York" in client.get("/account/").get_data(
        as_text=True)


def test_unit_manager_cannot_change_the_agency_zone(client, make_user, login_as, agency):
    from learning.accounts.models import Unit

    unit = Unit(agency_id=agency.id, name="North post")
    db.session.add(unit)
    db.session.commit()
    login_as(make_user("manager", agency=agency, unit=unit))
    assert client.post("/agency/settings/", data={"time_zone": "Asia/Tokyo"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).time_zone == "UTC"


def test_admin_sets_an_agency_zone_and_the_audit_log_shows_it(client, make_user, login_as,
                                                              agency):
    admin = make_user("admin")
    admin.time_zone = "Asia/Kolkata"
    db.session.commit()
    login_as(admin)
    page = client.get(f"/admin/agencies/{agency.id}/").get_data(as_text=True)
    assert f'action="/admin/agencies/{agency.id}/time-zone"' in page
    response = client.post(f"/admin/agencies/{agency.id}/time-zone",
                           data={"time_zone": "Europe/Lisbon"})
    assert response.status_code == 302
    refused = client.post(f"/admin/agencies/{agency.id}/time-zone",
                          data={"time_zone": "Europe/Atlantis"})
    assert refused.status_code == 400
    assert "is not a time zone we know" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).time_zone == "Europe/Lisbon"
    audit = client.get("/admin/audit/").get_data(as_text=True)
    assert "When (Asia/Kolkata)" in audit and " IST</td>" in audit


def test_due_today_is_the_officers_today(client, make_user, login_as, agency, synced,
                                         monkeypatch):
    """At 23:30 UTC on the due date it is already the next day in Paris: overdue there."""
    manager = make_user("manager", agency=agency)
    officer = make_user("officer", agency=agency)
    course = db.session.scalar(sa.select(Course))
    now = utcnow().replace(hour=23, minute=30)
    create_assignment(manager, course.id, now.date(), "none", None, [], [officer.email],
                      allow_past=True)
    db.session.commit()
    monkeypatch.setattr("learning.core.localtime.today_in",
                        lambda name: today_in(name, now))
    login_as(officer)
    assert "due today" in client.get("/training/").get_data(as_text=True)
    officer = db.session.get(User, officer.id)
    officer.time_zone = "Europe/Paris"
    db.session.commit()
    page = client.get("/training/").get_data(as_text=True)
    assert "due today" not in page and "was due" in page


def test_a_zone_costs_no_query(app, make_user, agency, count_statements):
    """The agency (and so its zone) is loaded with the signed-in user, in one statement."""
    agency.time_zone = "Europe/Paris"
    session_id = make_user("officer", agency=agency).get_id()
    db.session.commit()
    db.session.close()  # as a new request starts: nothing loaded yet
    with count_statements() as counter:
        user = app.login_manager._user_callback(session_id)
        assert user.time_zone_name == "Europe/Paris"
    assert counter.count == 1, counter.statements
    assert "JOIN agency" in counter.statements[0]
