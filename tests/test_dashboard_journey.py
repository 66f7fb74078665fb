"""The manager's dashboard: compliance per unit, the 12-month trend, certificates expiring."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from learning.agency import charts, dashboard
from learning.agency.compliance import Officer, Requirement
from learning.agency.dashboard import CertificateRecord
from learning.agency.service import create_assignment
from learning.catalogue.models import Course
from learning.certificates.models import Certificate
from learning.extensions import db
from learning.timeutil import utcnow
from tests.test_certificates import pass_final, read_all_lessons


def test_month_ends_are_the_last_twelve_ending_today():
    ends = dashboard.month_ends(date(2026, 3, 15))
    assert len(ends) == 12
    assert ends[0] == date(2025, 4, 30) and ends[-2] == date(2026, 2, 28)
    assert ends[-1] == date(2026, 3, 15)
    assert dashboard.month_ends(date(2024, 12, 31))[-3:] == [
        date(2024, 10, 31), date(2024, 11, 30), date(2024, 12, 31)]


def test_compliance_on_past_dates_uses_what_existed_then():
    north = Officer(1, "Ana", "a@x.test", 10, "North")
    late = Officer(2, "Ben", "b@x.test", 10, "North")
    requirement = Requirement(7, 3, "Basics", date(2025, 6, 30), "none", None,
                              frozenset({10}), frozenset())
    officers = [(north, date(2025, 1, 1)), (late, date(2025, 9, 1))]
    certificates = [CertificateRecord(1, 3, "Basics", date(2025, 5, 10), date(2027, 5, 10),
                                      None),
                    CertificateRecord(2, 3, "Basics", date(2025, 9, 5), date(2027, 9, 5),
                                      date(2025, 11, 1))]  # revoked on 1 Nov
    created = {7: date(2025, 3, 1)}

    def on(day):
        return dashboard.compliant_officers(officers, [requirement], created, certificates,
                                            day, 90)

    assert on(date(2025, 2, 28)) == {}  # nothing assigned yet
    assert on(date(2025, 4, 30)) == {1: False}
    assert on(date(2025, 5, 31)) == {1: True}
    assert on(date(2025, 9, 30)) == {1: True, 2: True}
    assert on(date(2025, 11, 30)) == {1: True, 2: False}  # the revoked one no longer counts


def test_expiring_soon_takes_each_pairs_current_certificate_and_buckets_by_week():
    today = date(2026, 1, 1)
    ana = Officer(1, "Ana", "a@x.test", None, "")
    certificates = [CertificateRecord(1, 3, "Basics", date(2023, 1, 1), date(2026, 1, 20), None),
                    CertificateRecord(1, 4, "Signs", date(2024, 1, 1), date(2026, 3, 31), None),
                    CertificateRecord(1, 5, "Old", date(2023, 1, 1), date(2026, 1, 10), None),
                    CertificateRecord(1, 5, "Old", date(2025, 6, 1), date(2028, 6, 1), None),
                    CertificateRecord(1, 6, "Far", date(2025, 6, 1), date(2026, 4, 2), None)]
    soon = dashboard.expiring_soon([(ana, date(2020, 1, 1))], certificates, today)
    assert [(e.course_title, e.expires_on) for e in soon] == [
        ("Basics", date(2026, 1, 20)), ("Signs", date(2026, 3, 31))]
    weeks = dashboard.by_week(soon, today)
    assert len(weeks) == 13 and weeks[0] == (today, 0)
    assert weeks[2] == (date(2026, 1, 15), 1) and weeks[12] == (date(2026, 3, 26), 1)


def test_chart_geometry_scales_to_the_values():
    chart = charts.horizontal_percent([("North Post", 50), ("A very long unit name indeed, "
                                                           "longer than fits", 100)])
    half, full = chart.bars
    assert full.width == 2 * half.width and full.label.endswith("…") and len(full.label) <= 18
    assert half.value == "50 %"
    columns = charts.columns([("a", 0, "0"), ("b", 5, "5"), ("c", 10, "10")], 10, [0, 5, 10])
    assert [bar.height for bar in columns.bars] == [0, charts.PLOT_HEIGHT / 2, charts.PLOT_HEIGHT]
    assert columns.grid[0][0] == charts.TOP + charts.PLOT_HEIGHT and columns.grid[-1][0] == \
        charts.TOP
    assert charts.count_ticks(0) == [0, 1, 2] and charts.count_ticks(5) == [0, 3, 6]


def _setup(synced, make_user, make_unit, agency, client, login_as):
    north, south = make_unit(agency, "North Post"), make_unit(agency, "South Station")
    manager = make_user("manager", agency=agency)
    officers = [make_user("officer", agency=agency, unit=north, name=f"North {n}")
                for n in range(3)] + [make_user("officer", agency=agency, unit=south,
                                                name="South 0")]
    course = db.session.scalar(sa.select(Course))
    today = utcnow().date()
    assignment = create_assignment(manager, course.id, today + timedelta(days=10), "none", None,
                                   [north.id, south.id], [])
    login_as(officers[0])
    read_all_lessons(client)
    pass_final(client)
    client.post("/logout")
    # History: assigned eight months ago; the certificate earned 95 days ago, due out in 30.
    assignment.created_at = datetime.combine(today - timedelta(days=240), datetime.min.time())
    for officer in officers:
        officer.created_at = datetime.combine(today - timedelta(days=400),
                                              datetime.min.time())
    certificate = db.session.scalar(sa.select(Certificate))
    certificate.issued_on = today - timedelta(days=95)
    certificate.expires_on = today + timedelta(days=30)
    db.session.commit()
    return manager, officers, today


def test_dashboard_figures_and_page(synced, make_user, make_unit, agency, client, login_as,
                                    count_statements):
    manager, officers, today = _setup(synced, make_user, make_unit, agency, client, login_as)
    view = dashboard.build(manager, today, 90)
    assert [(s.label, s.compliant, s.total, s.percent) for s in view.units] == [
        ("North Post", 1, 3, 33), ("South Station", 0, 1, 0)]
    assert view.trend[-1].compliant == 1 and view.trend[-1].total == 4
    # The month just ended was snapshotted by this first view; older months have no data.
    assert [s.known for s in view.trend] == [False] * 10 + [True, True]
    assert (view.trend[-2].compliant, view.trend[-2].total) == (1, 4)
    [item] = view.expiring
    assert (item.officer.name, item.expires_on) == ("North 0", today + timedelta(days=30))
    assert view.weeks[30 // 7][1] == 1 and sum(n for _day, n in view.weeks) == 1

    login_as(manager)
    response = client.get("/agency/dashboard")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<svg") == 3 and html.count("<title id=") == 3
    assert ' style=' not in html and "<script" not in html
    for chart_id in ("units", "trend", "weeks"):
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in html
    # Each chart is followed by its table.
    assert all("<table" in part.split("<svg")[0] for part in html.split("</svg>")[1:])
    assert "33 %" in html and "North 0" in html
    assert "no data" in html
    assert (today + timedelta(days=30)).isoformat() in html
    assert "/agency/dashboard" in client.get("/agency/").get_data(as_text=True)

    with count_statements() as small:
        client.get("/agency/dashboard")
    for n in range(30):
        make_user("officer", agency=agency, unit=officers[0].unit, name=f"Extra {n}")
    client.get("/agency/dashboard")
    with count_statements() as large:
        assert "North Post" in client.get("/agency/dashboard").get_data(as_text=True)
    assert large.count == small.count


def test_unit_manager_sees_only_their_unit(synced, make_user, make_unit, agency, client,
                                           login_as):
    manager, officers, today = _setup(synced, make_user, make_unit, agency, client, login_as)
    south_manager = make_user("manager", agency=agency, unit=officers[3].unit)
    view = dashboard.build(south_manager, today, 90)
    assert [s.label for s in view.units] == ["South Station"] and view.expiring == []
    login_as(south_manager)
    html = client.get("/agency/dashboard").get_data(as_text=True)
    assert "North 0" not in html and "North Post" not in html
    assert re.search(r"No certificate expires in the next 90 days", html)


def test_dashboard_is_for_managers(client, app_ctx, make_user, login_as):
    login_as(make_user("officer"))
    assert client.get("/agency/dashboard").status_code == 403
