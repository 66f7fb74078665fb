"""Agency compliance: states on fixed dates, assignments, exports equal to the screen, scoping."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from learning.accounts.service import get_or_create_agency
from learning.agency import compliance
from learning.agency.compliance import Held, Requirement, evaluate
from learning.agency.models import AuditEntry
from learning.agency.service import AgencyError, create_assignment
from learning.catalogue.models import Course
from learning.extensions import db
from learning.timeutil import utcnow
from tests.test_certificates import pass_final, read_all_lessons


def requirement(due=date(2026, 3, 31), recurrence="none", months=None):
    return Requirement(1, 1, "Course", due, recurrence, months, frozenset({1}), frozenset())


@pytest.mark.parametrize("today,held,started,req,expected", [
    (date(2026, 3, 31), None, False, requirement(), ("not_started", date(2026, 3, 31))),
    (date(2026, 3, 31), None, True, requirement(), ("in_progress", date(2026, 3, 31))),
    (date(2026, 4, 1), None, True, requirement(), ("overdue", date(2026, 3, 31))),
    # A certificate valid to 31 Jan 2028, checked around its month end.
    (date(2027, 6, 1), Held(date(2026, 1, 31), date(2028, 1, 31)), True, requirement(),
     ("completed", date(2026, 3, 31))),
    (date(2027, 11, 2), Held(date(2026, 1, 31), date(2028, 1, 31)), True, requirement(),
     ("expiring", date(2028, 1, 31))),
    (date(2028, 1, 31), Held(date(2026, 1, 31), date(2028, 1, 31)), True, requirement(),
     ("expired", date(2028, 1, 31))),
    # Every 12 months after a completion on 29 Feb 2028: next due 28 Feb 2029.
    (date(2028, 12, 31), Held(date(2028, 2, 29), None), True,
     requirement(recurrence="months", months=12), ("expiring", date(2029, 2, 28))),
    (date(2029, 3, 1), Held(date(2028, 2, 29), None), True,
     requirement(recurrence="months", months=12), ("overdue", date(2029, 2, 28))),
    (date(2028, 6, 1), Held(date(2028, 2, 29), None), True,
     requirement(recurrence="months", months=12), ("completed", date(2029, 2, 28))),
    # Again when the certificate expires.
    (date(2027, 12, 1), Held(date(2025, 12, 31), date(2027, 12, 31)), True,
     requirement(recurrence="on_expiry"), ("expiring", date(2027, 12, 31))),
])
def test_states_on_fixed_dates(today, held, started, req, expected):
    assert evaluate(req, held, started, today, 90) == expected


@pytest.fixture
def agency_setup(synced, make_user, make_unit, agency):
    north, south = make_unit(agency, "North Post"), make_unit(agency, "South Station")
    manager = make_user("manager", agency=agency)
    officers = [make_user("officer", agency=agency, unit=north, name=f"North {n}")
                for n in range(3)] + [make_user("officer", agency=agency, unit=south,
                                                name="South 0")]
    course = db.session.scalar(sa.select(Course))
    return {"north": north, "south": south, "manager": manager, "officers": officers,
            "course": course, "agency": agency}


def test_assignment_to_a_unit_includes_new_officers(agency_setup, make_user):
    s = agency_setup
    create_assignment(s["manager"], s["course"].id, date(2030, 1, 1), "none", None,
                      [s["north"].id], [])
    rows = compliance.snapshot(s["manager"], date(2029, 1, 1), 90)
    assert sorted(r.officer.name for r in rows) == ["North 0", "North 1", "North 2"]
    make_user("officer", agency=s["agency"], unit=s["north"], name="North new")
    rows = compliance.snapshot(s["manager"], date(2029, 1, 1), 90)
    assert "North new" in {r.officer.name for r in rows}
    assert {r.state for r in rows} == {"not_started"}
    audit = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action.like("assignment.%"))).all()
    assert [a.action for a in audit] == ["assignment.create"]


def test_assignment_rules(agency_setup, make_user):
    s = agency_setup
    other_agency = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    outsider = make_user("officer", agency=other_agency, email="outsider@b.test")
    with pytest.raises(AgencyError, match="has the email"):
        create_assignment(s["manager"], s["course"].id, date(2030, 1, 1), "none", None, [],
                          [outsider.email])
    with pytest.raises(AgencyError, match="at least one unit"):
        create_assignment(s["manager"], s["course"].id, date(2030, 1, 1), "none", None, [], [])
    with pytest.raises(AgencyError, match="how many months"):
        create_assignment(s["manager"], s["course"].id, date(2030, 1, 1), "months", None,
                          [s["north"].id], [])
    assignment = create_assignment(s["manager"], s["course"].id, date(2030, 1, 1), "none",
                                   None, [], [s["officers"][3].email.upper()])
    assert [t.user_id for t in assignment.targets] == [s["officers"][3].id]


def test_states_follow_real_progress(agency_setup, client, login_as):
    s = agency_setup
    create_assignment(s["manager"], s["course"].id, utcnow().date() + timedelta(days=10),
                      "on_expiry", None, [s["north"].id], [])
    north0, north1 = s["officers"][0], s["officers"][1]
    login_as(north0)
    read_all_lessons(client)
    pass_final(client)
    client.post("/logout")
    login_as(north1)
    client.post("/courses/field-basics/first-steps/")
    client.post("/logout")
    states = {r.officer.name: r.state
              for r in compliance.snapshot(s["manager"], utcnow().date(), 90)}
    assert states == {"North 0": "completed", "North 1": "in_progress", "North 2": "not_started"}
    later = utcnow().date() + timedelta(days=20)
    states = {r.officer.name: r.state for r in compliance.snapshot(s["manager"], later, 90)}
    assert states == {"North 0": "completed", "North 1": "overdue", "North 2": "overdue"}


def test_export_equals_screen(agency_setup, client, login_as):
    s = agency_setup
    create_assignment(s["manager"], s["course"].id, date(2020, 1, 1), "none", None,
                      [s["north"].id, s["south"].id], [])
    login_as(s["manager"])
    page = client.get("/agency/").get_data(as_text=True)
    export = client.get("/agency/export.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(export)))
    assert rows[0] == list(compliance_columns())
    screen = compliance.snapshot(s["manager"], utcnow().date(), 90)
    assert [(r[0], r[4], r[5]) for r in rows[1:]] == [
        (row.officer.name, compliance.STATE_LABELS[row.state], row.due_on.isoformat())
        for row in screen]
    for name, *_rest in rows[1:]:
        assert name in page
    assert page.count("Overdue") >= 4
    # The streamed export gives the same rows in small chunks as in one go.
    streamed = list(compliance.stream(s["manager"], utcnow().date(), 90, chunk=1))
    assert [(r.officer.id, r.state) for r in streamed] == [(r.officer.id, r.state)
                                                            for r in screen]
    filtered = client.get(f"/agency/export.csv?unit={s['south'].id}").data.decode("utf-8-sig")
    assert [r[0] for r in list(csv.reader(io.StringIO(filtered)))[1:]] == ["South 0"]


def test_filters_and_totals(agency_setup, client, login_as):
    s = agency_setup
    create_assignment(s["manager"], s["course"].id, date(2020, 1, 1), "none", None,
                      [s["north"].id, s["south"].id], [])
    login_as(s["manager"])
    html = client.get(f"/agency/?unit={s['south'].id}").get_data(as_text=True)
    assert "South 0" in html and "North 0" not in html
    html = client.get("/agency/?state=completed").get_data(as_text=True)
    assert "No assigned training matches these filters." in html
    assert client.get("/agency/?state=bogus").status_code == 400
    totals = compliance.totals_by_unit(compliance.snapshot(s["manager"], date(2026, 1, 1), 90))
    assert [(t.unit_name, t.counts["overdue"]) for t in totals] == [("North Post", 3),
                                                                    ("South Station", 1)]


def test_unit_manager_sees_only_their_unit(agency_setup, make_user):
    s = agency_setup
    create_assignment(s["manager"], s["course"].id, date(2030, 1, 1), "none", None,
                      [s["north"].id, s["south"].id], [])
    unit_manager = make_user("manager", agency=s["agency"], unit=s["south"])
    rows = compliance.snapshot(unit_manager, date(2029, 1, 1), 90)
    assert [r.officer.name for r in rows] == ["South 0"]
    with pytest.raises(AgencyError, match="your own units"):
        create_assignment(unit_manager, s["course"].id, date(2030, 1, 1), "none", None,
                          [s["north"].id], [])


def test_managers_cannot_reach_another_agency(agency_setup, client, login_as, make_user,
                                              make_unit):
    s = agency_setup
    create_assignment(s["manager"], s["course"].id, date(2030, 1, 1), "none", None,
                      [s["north"].id], [])
    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    other_unit = make_unit(other, "B Post")
    other_manager = make_user("manager", agency=other)
    outsider = make_user("officer", agency=other, unit=other_unit, name="B Officer")
    login_as(other_manager)
    html = client.get("/agency/").get_data(as_text=True)
    assert "North 0" not in html
    assert "North" not in client.get(f"/agency/?unit={s['north'].id}").get_data(as_text=True)
    export = client.get(f"/agency/export.csv?unit={s['north'].id}").data.decode("utf-8-sig")
    assert export.strip().splitlines() == [",".join(compliance_columns())]
    for officer in s["officers"]:
        assert client.get(f"/agency/officers/{officer.id}/").status_code == 404
    assert client.get(f"/agency/officers/{outsider.id}/").status_code == 200
    response = client.post("/agency/assignments/", data={
        "course_id": s["course"].id, "due_on": "2030-01-01", "recurrence": "none",
        "unit_ids": [s["north"].id]})
    assert response.status_code == 200  # the form is shown again with the error
    from learning.agency.models import Assignment
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment).where(
        Assignment.agency_id == other.id)) == 0


def compliance_columns() -> tuple[str, ...]:
    from learning.agency.views import EXPORT_COLUMNS
    return tuple(str(column) for column in EXPORT_COLUMNS)


def test_page_statements_do_not_grow_with_officers(agency_setup, client, login_as, make_user,
                                                   count_statements):
    s = agency_setup
    create_assignment(s["manager"], s["course"].id, date(2030, 1, 1), "none", None,
                      [s["north"].id], [])
    login_as(s["manager"])
    client.get("/agency/")
    with count_statements() as small:
        client.get("/agency/")
    for n in range(40):
        make_user("officer", agency=s["agency"], unit=s["north"], name=f"Extra {n}")
    client.get("/agency/")
    with count_statements() as large:
        assert "Extra 39" in client.get("/agency/").get_data(as_text=True)
    assert large.count == small.count


def test_audit_log_cannot_be_changed(app_ctx, agency_setup):
    s = agency_setup
    create_assignment(s["manager"], s["course"].id, date(2030, 1, 1), "none", None,
                      [s["north"].id], [])
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.update(AuditEntry).values(action="edited"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.delete(AuditEntry))
        db.session.flush()
    db.session.rollback()


def test_assignment_form(agency_setup, client, login_as):
    s = agency_setup
    login_as(s["manager"])
    html = client.get("/agency/assignments/").get_data(as_text=True)
    assert "Nothing assigned yet." in html and "North Post" in html
    response = client.post("/agency/assignments/", data={
        "course_id": s["course"].id, "due_on": "2030-01-31", "recurrence": "months",
        "every_months": "12", "unit_ids": [s["north"].id],
        "officer_emails": s["officers"][3].email})
    assert response.status_code == 302
    html = client.get("/agency/assignments/").get_data(as_text=True)
    assert "2030-01-31" in html and "every 12 months" in html and "1 unit, 1 officer" in html


def test_export_streams_from_a_real_server(agency_setup, database_url, content_dirs):
    """Streaming runs after the view returns; it must not need the request's session."""
    from tests.conftest import PASSWORD
    from tests.server import Client, gunicorn

    s = agency_setup
    create_assignment(s["manager"], s["course"].id, date(2020, 1, 1), "none", None,
                      [s["north"].id, s["south"].id], [])
    with gunicorn(database_url, *content_dirs, workers=1, threads=2) as port:
        client = Client(port)
        client.log_in(s["manager"].email, PASSWORD)
        status, _headers, body = client.request("GET", "/agency/export.csv")
        assert status == 200
        assert body.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(body[1:])))
        assert len(rows) == 1 + 4 and {r[4] for r in rows[1:]} == {"Overdue"}
        status, headers, _body = client.request("GET", "/agency/export.xlsx")
        assert status == 200 and headers["Content-Type"].startswith(
            "application/vnd.openxmlformats")


def test_manager_grants_new_attempts_after_every_attempt_failed(agency_setup, client,
                                                                 login_as):
    from tests.test_assessments import FINAL, start

    s = agency_setup
    officer = s["officers"][0]
    login_as(officer)
    for _ in range(2):  # the fixture final allows two attempts
        _id, location = start(client)
        client.post(location + "submit", data={"sequence": "1"})
        from learning.assessments.models import Attempt
        for attempt in db.session.scalars(sa.select(Attempt)):
            attempt.submitted_at = utcnow() - timedelta(hours=2)  # past the cooldown
        db.session.commit()
    assert "You have used every attempt" in client.get(FINAL).get_data(as_text=True)
    client.post("/logout")

    login_as(s["manager"])
    page = client.get(f"/agency/officers/{officer.id}/").get_data(as_text=True)
    assert "Allow new attempts at the final" in page
    response = client.post(
        f"/agency/officers/{officer.id}/courses/{s['course'].id}/grant-attempts")
    assert response.status_code == 302
    audit = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "attempts.grant")).one()
    assert audit.details["attempts_set_aside"] == 2
    client.post("/logout")

    login_as(officer)
    html = client.get(FINAL).get_data(as_text=True)
    assert "Attempts left: 2 of 2" in html and "Your attempts" in html  # history kept


def test_grant_attempts_is_scoped_to_the_managers_agency(agency_setup, client, login_as,
                                                         make_user):
    s = agency_setup
    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    login_as(make_user("manager", agency=other))
    response = client.post(
        f"/agency/officers/{s['officers'][0].id}/courses/{s['course'].id}/grant-attempts")
    assert response.status_code == 404
