"""The dashboard at scale: bounded statements, monthly snapshots written once, scoping."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from learning.accounts.models import User
from learning.agency import dashboard, snapshots
from learning.agency.compliance import Filters, Officer, _officer_query, requirements_for
from learning.agency.compliance_models import ComplianceSnapshot
from learning.agency.compliance_state import refresh_users
from learning.agency.dashboard import CertificateRecord
from learning.agency.models import Assignment
from learning.agency.service import create_assignment
from learning.catalogue.models import Course
from learning.certificates.models import Certificate, Completion
from learning.extensions import db
from learning.timeutil import utcnow
from tests.test_dashboard_journey import _setup


def old_figure(viewer: User, day, window_days: int = 90) -> tuple[int, int]:
    """(compliant, total) on ``day`` as the history-walking trend defined it."""
    requirements = requirements_for(viewer.agency_id)
    query = _officer_query(viewer, Filters())
    officers = [(Officer(*row[:5]), row[5].date())
                for row in db.session.execute(query.add_columns(User.created_at))]
    created = {id_: moment.date() for id_, moment in db.session.execute(
        sa.select(Assignment.id, Assignment.created_at)
        .where(Assignment.agency_id == viewer.agency_id))}
    scoped = query.with_only_columns(User.id).order_by(None)
    certificates = [CertificateRecord(u, c, t, i, e, r.date() if r else None)
                    for u, c, t, i, e, r in db.session.execute(
        sa.select(Certificate.user_id, Certificate.course_id, Certificate.course_title,
                  Certificate.issued_on, Certificate.expires_on, Certificate.revoked_at)
        .where(Certificate.user_id.in_(scoped)).order_by(Certificate.issued_on, Certificate.id))]
    states = dashboard.compliant_officers(officers, requirements, created, certificates, day,
                                          window_days)
    return sum(states.values()), len(states)


def stored(agency_id: int) -> list[tuple]:
    return [tuple(r) for r in db.session.execute(
        sa.select(ComplianceSnapshot.month, ComplianceSnapshot.unit_key,
                  ComplianceSnapshot.total, ComplianceSnapshot.compliant)
        .where(ComplianceSnapshot.agency_id == agency_id)
        .order_by(ComplianceSnapshot.month, ComplianceSnapshot.unit_key))]


def test_snapshots_equal_the_history_walking_definition(synced, make_user, make_unit, agency,
                                                        client, login_as):
    manager, officers, today = _setup(synced, make_user, make_unit, agency, client, login_as)
    make_user("officer", agency=agency, unit=officers[0].unit, name="Joined today")
    months = snapshots.months_before(today, 11)
    for month in months:
        snapshots.write_snapshot(db.session, agency.id, month, 90)
    db.session.commit()
    view = dashboard.build(manager, today, 90)
    figures = [(s.compliant, s.total) for s in view.trend[:-1]]
    expected = [old_figure(manager, snapshots.month_end(month)) for month in months]
    assert figures == expected
    assert expected[-1] == (1, 4) and expected[0] == (0, 0)  # varied, not all empty
    assert all(s.known for s in view.trend)


def test_snapshot_is_written_once_per_month(synced, make_user, make_unit, agency, client,
                                            login_as, runner):
    manager, officers, today = _setup(synced, make_user, make_unit, agency, client, login_as)
    dashboard.build(manager, today, 90)
    first = stored(agency.id)
    last_month = snapshots.previous_month(today)
    assert {row[0] for row in first} == {last_month}
    assert (last_month, snapshots.AGENCY_KEY, 4, 1) in first
    # Later views and the job change nothing, even when the data has changed since.
    make_user("officer", agency=agency, unit=officers[0].unit, name="Late")
    dashboard.build(manager, today, 90)
    snapshots.write_snapshot(db.session, agency.id, last_month, 90)
    db.session.commit()
    assert runner.invoke(args=["compliance", "snapshot"]).exit_code == 0
    assert stored(agency.id) == first
    # A writer that lost the race to another's committed rows adds nothing and fails nothing.
    month = snapshots.previous_month(last_month)
    with db.engine.begin() as other:
        other.execute(sa.insert(ComplianceSnapshot.__table__), [
            {"agency_id": agency.id, "unit_key": key, "month": month, "total": 7,
             "compliant": 7} for key in (officers[0].unit_id, snapshots.AGENCY_KEY)])
    snapshots.write_snapshot(db.session, agency.id, month, 90)
    db.session.commit()
    assert [row for row in stored(agency.id) if row[0] == month] == sorted(
        [(month, key, 7, 7) for key in (officers[0].unit_id, snapshots.AGENCY_KEY)],
        key=lambda row: row[1])
    # The job refuses a month that has not ended, and bad input, writing nothing.
    before = stored(agency.id)
    for bad in (f"{today:%Y-%m}", "2026-13", "soon"):
        assert runner.invoke(args=["compliance", "snapshot", "--month", bad]).exit_code == 2
    assert stored(agency.id) == before
    # The first view of a new month stores the month just ended, once.
    later = snapshots.month_end(today) + timedelta(days=3)
    dashboard.build(manager, later, 90)
    dashboard.build(manager, later, 90)
    assert sum(1 for row in stored(agency.id) if row[0] == snapshots.month_start(today)
               and row[1] == snapshots.AGENCY_KEY) == 1


def _officers(agency, unit, course, count: int, start: int) -> None:
    """``count`` more officers; the first eighth of all of them hold a certificate of
    ``course`` expiring in 20 days (inserted in bulk, then brought up to date)."""
    db.session.execute(sa.insert(User), [
        {"email": f"bulk{n}@example.test", "display_name": f"Bulk {n:04}", "role": "officer",
         "active": True, "password_hash": "x", "agency_id": agency.id, "unit_id": unit.id}
        for n in range(start, start + count)])
    ids = list(db.session.scalars(sa.select(User.id).where(User.email.like("bulk%"))
                                  .order_by(User.id)))
    today = utcnow().date()
    for user_id in ids[start // 8:(start + count) // 8]:
        completion = Completion(user_id=user_id, course_id=course.id, cycle=0,
                                version_id=course.current_version_id)
        db.session.add(completion)
        db.session.flush()
        db.session.execute(sa.insert(Certificate), [{
            "code": f"BULK{user_id}", "completion_id": completion.id, "user_id": user_id,
            "course_id": course.id, "version_id": course.current_version_id,
            "holder_name": "Bulk", "course_slug": course.slug, "course_title": "Course",
            "version_number": 1, "content_hash": "0" * 64, "score": 90.0,
            "issued_on": today - timedelta(days=10), "expires_on": today + timedelta(days=20)}])
    refresh_users(db.session, ids, 90)
    db.session.commit()


def test_statements_are_the_same_at_50_and_500_officers(synced, make_user, make_unit, agency,
                                                        client, login_as, count_statements):
    unit = make_unit(agency, "North Post")
    manager = make_user("manager", agency=agency)
    course = db.session.scalar(sa.select(Course))
    create_assignment(manager, course.id, utcnow().date() + timedelta(days=10), "none", None,
                      [unit.id], [])
    _officers(agency, unit, course, 50, 0)
    login_as(manager)
    client.get("/agency/dashboard")  # stores last month's snapshot
    with count_statements() as small:
        assert client.get("/agency/dashboard").status_code == 200
    _officers(agency, unit, course, 450, 50)
    client.get("/agency/dashboard")
    with count_statements() as large:
        html = client.get("/agency/dashboard").get_data(as_text=True)
    assert large.count == small.count
    view = dashboard.build(manager, utcnow().date(), 90)
    assert view.units[0].total == 500 and view.expiring_total == 62
    assert len(view.expiring) == dashboard.EXPIRING_SHOWN and sum(n for _d, n in view.weeks) == 62
    assert "The 50 soonest of 62" in html


def test_a_manager_sees_only_their_agency_and_unit_figures(synced, make_user, make_unit, agency,
                                                           client, login_as):
    from learning.accounts.service import get_or_create_agency
    manager, officers, today = _setup(synced, make_user, make_unit, agency, client, login_as)
    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    east = make_unit(other, "East Gate")
    other_manager = make_user("manager", agency=other)
    make_user("officer", agency=other, unit=east, name="East 0")
    south_manager = make_user("manager", agency=agency, unit=officers[3].unit)
    mine = dashboard.build(manager, today, 90)
    theirs = dashboard.build(other_manager, today, 90)
    south = dashboard.build(south_manager, today, 90)
    assert (mine.trend[-2].compliant, mine.trend[-2].total) == (1, 4)
    assert (south.trend[-2].compliant, south.trend[-2].total) == (0, 1)
    assert (south.trend[-1].compliant, south.trend[-1].total) == (0, 1)
    assert all(s.total == 0 for s in theirs.trend) and theirs.units == []
    assert theirs.expiring == [] and theirs.expiring_total == 0
    assert south.expiring == [] and south.expiring_total == 0 and mine.expiring_total == 1
    login_as(other_manager)
    html = client.get("/agency/dashboard").get_data(as_text=True)
    assert "North" not in html and "South" not in html
