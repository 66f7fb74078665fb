"""Compliance state kept current as events happen: each event, rebuild equality, SQL == evaluate."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learning.accounts.models import Unit, User
from learning.agency import compliance, dashboard
from learning.agency.compliance import Held, Requirement, evaluate
from learning.agency.compliance_events import window_days
from learning.agency.compliance_models import ComplianceState, ComplianceTally, OfficerCompliance
from learning.agency.compliance_query import (
    BASE_DAY,
    EVERY_COURSE,
    lapses_by_day,
    state_sql,
    steps,
    stored_state,
    tally_totals,
)
from learning.agency.compliance_state import COLUMNS, rebuild, stored_values
from learning.agency.compliance_summary import SUMMARY_COLUMNS, summaries
from learning.agency.service import create_assignment, remove_assignment, update_assignment
from learning.catalogue.models import Course
from learning.certificates.models import Certificate, Completion
from learning.certificates.service import revoke_certificate
from learning.extensions import db
from learning.progress.models import LessonProgress

TODAY = date(2030, 1, 15)
dates = st.dates(min_value=date(2028, 1, 1), max_value=date(2032, 12, 31))


def stored() -> set[tuple]:
    """Every state row, without its id."""
    db.session.expire_all()
    columns = [getattr(ComplianceState, name) for name in COLUMNS]
    return {tuple(row) for row in db.session.execute(sa.select(*columns))}


def give_certificate(officer: User, course: Course, issued_on: date, expires_on: date | None,
                     cycle: int = 0) -> Certificate:
    completion = Completion(user_id=officer.id, course_id=course.id, cycle=cycle,
                            version_id=course.current_version_id)
    db.session.add(completion)
    db.session.flush()
    certificate = Certificate(
        code=f"T{officer.id}C{course.id}Y{cycle}", completion_id=completion.id,
        user_id=officer.id, course_id=course.id, version_id=course.current_version_id,
        holder_name=officer.display_name, course_slug=course.slug, course_title="Course",
        version_number=1, content_hash="0" * 64, score=80.0, issued_on=issued_on,
        expires_on=expires_on)
    db.session.add(certificate)
    db.session.commit()
    return certificate


def read_lesson(officer: User, course: Course, slug: str = "first-steps") -> None:
    db.session.add(LessonProgress(user_id=officer.id, course_id=course.id, lesson_slug=slug,
                                  version_id=course.current_version_id, lesson_hash="0" * 64))
    db.session.commit()


def row_of(officer: User) -> dict:
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in stored() if row[4] == officer.id]
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def world(synced, make_user, make_unit, agency):
    north, south = make_unit(agency, "North"), make_unit(agency, "South")
    manager = make_user("manager", agency=agency)
    officers = [make_user("officer", agency=agency, unit=north, name=f"North {n}")
                for n in range(2)] + [make_user("officer", agency=agency, unit=south,
                                                name="South 0")]
    courses = list(db.session.scalars(sa.select(Course).order_by(Course.id)))
    return {"agency": agency, "north": north, "south": south, "manager": manager,
            "officers": officers, "courses": courses}


def test_each_event_moves_the_state(world, make_user):
    w = world
    course, (n0, n1, s0) = w["courses"][0], w["officers"]
    assert stored() == set()
    assignment = create_assignment(w["manager"], course.id, date(2030, 1, 1), "months", 12,
                                   [w["north"].id], [])
    assert {row[4] for row in stored()} == {n0.id, n1.id}  # assignment created
    read_lesson(n0, course)  # lesson read: started
    assert row_of(n0)["started"] and not row_of(n1)["started"]
    certificate = give_certificate(n0, course, date(2029, 3, 1), date(2031, 3, 1))
    row = row_of(n0)  # certificate issued: dates stored, the recurrence's next cycle too
    assert (row["completed_on"], row["expires_on"], row["next_due"], row["watch_on"]) == (
        date(2029, 3, 1), date(2031, 3, 1), date(2030, 3, 1), date(2030, 3, 1))
    give_certificate(n0, course, date(2030, 2, 1), date(2032, 2, 1), cycle=1)
    assert row_of(n0)["next_due"] == date(2031, 2, 1)  # recurrence cycled
    newest = db.session.scalar(sa.select(Certificate).where(Certificate.user_id == n0.id)
                               .order_by(Certificate.id.desc()))
    revoke_certificate(newest, "Issued in error", None)  # revoked: the older one counts again
    assert row_of(n0)["completed_on"] == certificate.issued_on
    update_assignment(w["manager"], assignment, course.id, date(2030, 6, 1), "none", None,
                      [w["north"].id, w["south"].id], [], allow_past=True)
    assert {row[4] for row in stored()} == {n0.id, n1.id, s0.id}  # assignment edited
    assert row_of(s0)["due_on"] == date(2030, 6, 1) and row_of(n0)["next_due"] is None
    newcomer = make_user("officer", agency=w["agency"], unit=w["north"], name="New")
    assert row_of(newcomer)["unit_name"] == "North"  # officer added
    newcomer.unit_id = w["south"].id
    db.session.commit()
    assert (row_of(newcomer)["unit_id"], row_of(newcomer)["unit_name"]) == (w["south"].id,
                                                                            "South")
    newcomer.display_name = "Renamed"
    db.session.commit()
    assert row_of(newcomer)["officer_name"] == "Renamed"
    db.session.get(Unit, w["south"].id).name = "South Station"
    db.session.commit()
    assert row_of(s0)["unit_name"] == "South Station"  # unit renamed
    newcomer.active = False
    db.session.commit()
    assert newcomer.id not in {row[4] for row in stored()}  # officer deactivated
    remove_assignment(w["manager"], assignment)
    assert stored() == set()  # assignment removed
    assert tally_totals(db.session, w["agency"].id, TODAY) == {}


def totals_from_rows(today: date) -> dict[int, Counter]:
    """What the tally must say: the stored rows' states counted per unit."""
    result: dict[int, Counter] = {}
    for row in stored():
        values = dict(zip(COLUMNS, row, strict=True))
        state = stored_state(values["due_on"], values["started"], values["completed_on"],
                             values["expires_on"], values["next_due"], values["watch_on"],
                             today, window_days())
        result.setdefault(values["unit_id"] or 0, Counter())[state] += 1
    return result


def summaries_stored() -> set[tuple]:
    """Every officer summary row."""
    db.session.expire_all()
    return {tuple(row) for row in db.session.execute(
        sa.select(*(getattr(OfficerCompliance, n) for n in SUMMARY_COLUMNS)))}


def evaluated(agency_id: int, day: date) -> list[compliance.ComplianceRow]:
    """Every assigned pair of the agency on ``day``, straight from the source tables."""
    people = [compliance.Officer(i, n, "", u, "") for i, n, u in db.session.execute(
        sa.select(User.id, User.display_name, User.unit_id).where(
            User.agency_id == agency_id, User.role == "officer", User.active.is_(True)))]
    requirements = compliance.requirements_for(agency_id)
    ids = [o.id for o in people]
    held, started = compliance.held_and_started(lambda column: column.in_(ids),
                                                {r.course_id for r in requirements})
    return list(compliance.rows_for(people, requirements, held, started, day, window_days()))


def check_summaries(w: dict, days: list[date]) -> None:
    """Summaries, the officers' tally, the dashboard's shares and its expiring weeks all say
    what ``evaluate`` says on each day."""
    agency_id = w["agency"].id
    summary = {row[0]: dict(zip(SUMMARY_COLUMNS, row, strict=True))
               for row in summaries_stored()}
    for day in days:
        rows = evaluated(agency_id, day)
        compliant: dict[int, bool] = {}
        for row in rows:
            ok = row.state in dashboard.COMPLIANT
            compliant[row.officer.id] = compliant.get(row.officer.id, True) and ok
        assert set(summary) == set(compliant)
        for user_id, ok in compliant.items():
            until = summary[user_id]["compliant_until"]
            assert (until is not None and day <= until) == ok, (user_id, day)
        unit_of = {row.officer.id: row.officer.unit_id or 0 for row in rows}
        expected: dict[int, Counter] = {}
        for user_id, ok in compliant.items():
            counts = expected.setdefault(unit_of[user_id], Counter())
            counts["officers"] += 1
            counts["compliant"] += ok
        tally = tally_totals(db.session, agency_id, day, course_id=EVERY_COURSE)
        assert {unit: Counter({k: c[k] for k in ("officers", "compliant") if c[k]})
                for unit, c in tally.items() if c["officers"]} == {
            unit: +counts for unit, counts in expected.items()}
        held = {(r.certificate_expires_on, r.officer.name,
                 r.officer.id, r.requirement.course_id) for r in rows
                if r.certificate_expires_on and day <= r.certificate_expires_on
                <= day + timedelta(days=90)}
        lapsing = Counter(expires for expires, _n, _u, _c in held)
        assert lapses_by_day(db.session, agency_id, day, day + timedelta(days=90)) == lapsing
        names = {w["north"].id: "North", w["south"].id: "South", 0: "—"}
        shares = dashboard.unit_shares(w["manager"], day, window_days())
        assert [(s.label, s.compliant, s.total) for s in shares] == sorted(
            (names[unit], c["compliant"], c["officers"]) for unit, c in expected.items())
        shown, weeks, total = dashboard.expiring_from_state(w["manager"], day, window_days())
        assert total == sum(n for _start, n in weeks) == sum(lapsing.values())
        assert [(e.expires_on, e.officer.name, e.officer.id) for e in shown] == [
            key[:3] for key in sorted(held)][:dashboard.EXPIRING_SHOWN]
    for user_id, values in summary.items():
        rows = [r for r in evaluated(agency_id, TODAY) if r.officer.id == user_id]
        assert (values["assignments"], values["completed"]) == (
            len(rows), sum(r.held is not None for r in rows))


@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_upkeep_equals_a_full_rebuild(world, make_user, seed):
    rng = random.Random(seed)
    w = world
    units, courses, officers = [w["north"], w["south"]], w["courses"], list(w["officers"])
    assignments, certificates, cycles = [], [], Counter()

    def assign():
        course = rng.choice(courses)
        picked = rng.sample(officers, rng.randint(0, min(2, len(officers))))
        unit_ids = [u.id for u in units if rng.random() < 0.5] or ([] if picked else
                                                                   [units[0].id])
        recurrence = rng.choice(["none", "months", "on_expiry"])
        assignments.append(create_assignment(
            w["manager"], course.id, TODAY + timedelta(days=rng.randint(-200, 200)),
            recurrence, 12 if recurrence == "months" else None, unit_ids,
            [o.email for o in picked if o.active and o.unit_id]))

    def edit():
        if assignments:
            a = rng.choice(assignments)
            if a.active:
                update_assignment(w["manager"], a, a.course_id,
                                  a.due_on + timedelta(days=rng.randint(-90, 90)),
                                  rng.choice(["none", "on_expiry"]), None,
                                  [rng.choice(units).id], [], allow_past=True)

    def remove():
        if assignments and assignments[0].active:
            remove_assignment(w["manager"], assignments[0])

    def hire():
        officers.append(make_user("officer", agency=w["agency"], unit=rng.choice(units)))

    def move():
        officer = rng.choice(officers)
        officer.unit_id = rng.choice(units).id if rng.random() < 0.9 else None
        db.session.commit()

    def deactivate():
        rng.choice(officers).active = False
        db.session.commit()

    def read():
        officer, course = rng.choice(officers), rng.choice(courses)
        if not db.session.scalar(sa.select(LessonProgress.id).where(
                LessonProgress.user_id == officer.id, LessonProgress.course_id == course.id)):
            read_lesson(officer, course)

    def certify():
        officer, course = rng.choice(officers), rng.choice(courses)
        issued = TODAY - timedelta(days=rng.randint(0, 900))
        key = (officer.id, course.id)
        certificates.append(give_certificate(
            officer, course, issued, issued + timedelta(days=rng.choice([365, 730])),
            cycles[key]))
        cycles[key] += 1

    def revoke():
        if certificates:
            revoke_certificate(rng.choice(certificates), "Test", None)

    events = [assign, assign, edit, remove, hire, move, deactivate, read, read, certify,
              certify, revoke]
    for _ in range(30):
        rng.choice(events)()
    incremental = stored()
    days = [TODAY + timedelta(days=d) for d in (-400, -30, 0, 45, 200, 800)]
    tallies = [tally_totals(db.session, w["agency"].id, day) for day in days]
    assert incremental, "the sequence should leave some assigned training"
    for day, tally in zip(days, tallies, strict=True):
        assert tally == totals_from_rows(day)
    # And on the days either side of an officer's last compliant day and of an expiry.
    edges = sorted({row[-1] for row in summaries_stored() if row[-1] and row[-1] < date.max}
                   | {row[11] for row in incremental if row[11]})
    check_summaries(w, days + [d + timedelta(days=n) for d in rng.sample(edges, min(3, len(
        edges))) for n in (0, 1)])
    summed = summaries_stored()
    officer_tallies = [tally_totals(db.session, w["agency"].id, day, course_id=EVERY_COURSE)
                       for day in days]
    rebuild(db.session, window_days())
    db.session.commit()
    assert stored() == incremental
    assert [tally_totals(db.session, w["agency"].id, day) for day in days] == tallies
    assert summaries_stored() == summed
    assert [tally_totals(db.session, w["agency"].id, day, course_id=EVERY_COURSE)
            for day in days] == officer_tallies


requirements = st.builds(
    lambda due, recurrence, months: Requirement(1, 1, "Course", due, recurrence,
                                                months if recurrence == "months" else None,
                                                frozenset({1}), frozenset()),
    dates, st.sampled_from(["none", "months", "on_expiry"]), st.integers(1, 36))
helds = st.none() | st.builds(
    lambda issued, months: Held(issued, issued + timedelta(days=30 * months) if months else None),
    dates, st.sampled_from([0, 6, 12, 24]))
cases = st.tuples(requirements, helds, st.booleans(), dates, st.sampled_from([0, 30, 90]))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(cases, min_size=1, max_size=20))
def test_states_derived_from_stored_dates_equal_evaluate(app_ctx, batch):
    """Python over stored columns, SQL over the same columns and the tally's steps all agree
    with ``evaluate`` on random rows and days."""
    officer = compliance.Officer(1, "O", "o@example.test", None, None)
    rows = [(stored_values(1, officer, req, held, started), today, window)
            for req, held, started, today, window in batch]
    expected = [evaluate(req, held, started, today, window)[0]
                for req, held, started, today, window in batch]
    columns = [dict(zip(COLUMNS, values, strict=True)) for values, _t, _w in rows]
    kept = ("due_on", "started", "completed_on", "expires_on", "next_due", "watch_on")
    python = [stored_state(*(c[k] for k in kept), today, window)
              for c, (_v, today, window) in zip(columns, rows, strict=True)]
    assert python == expected
    for c, (_v, today, window), state in zip(columns, rows, python, strict=True):
        counts = Counter()
        for day, name, delta in steps(*(c[k] for k in kept), window):
            assert day >= BASE_DAY
            if day <= today:
                counts[name] += delta
        assert +counts == Counter({state: 1})
    # The batch as one officer's rows: compliant on a day exactly when every row is.
    until = summaries(values for values, _t, _w in rows)[1][-1]
    edges = [(until + timedelta(days=n), 0) for n in (0, 1) if until and until < date.max]
    for today, window in [(today, window) for _v, today, window in rows] + edges:
        states = [evaluate(req, held, started, today, window)[0]
                  for req, held, started, _t, _w in batch]
        assert all(s in dashboard.COMPLIANT for s in states) == (
            until is not None and today <= until)
    types = {"due_on": sa.Date, "started": sa.Boolean, "completed_on": sa.Date,
             "expires_on": sa.Date, "next_due": sa.Date, "watch_on": sa.Date}
    for c, (_v, today, window), state in zip(columns, rows, python, strict=True):
        row = sa.select(*(sa.literal(c[k], types[k]).label(k) for k in kept)).subquery()
        assert db.session.scalar(sa.select(state_sql(today, window, row.c))) == state


def test_page_statements_equal_at_50_and_500_officers(world, client, login_as,
                                                      count_statements):
    w = world
    for course in w["courses"]:
        create_assignment(w["manager"], course.id, TODAY, "on_expiry", None,
                          [w["north"].id, w["south"].id], [])

    def grow_to(count: int) -> None:
        have = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.role == "officer"))
        db.session.add_all([User(email=f"bulk{n}@example.test", display_name=f"Bulk {n}",
                                 role="officer", agency_id=w["agency"].id,
                                 unit_id=(w["north"], w["south"])[n % 2].id)
                            for n in range(have, count)])
        db.session.commit()

    login_as(w["manager"])
    counts = []
    for size in (50, 500):
        grow_to(size)
        client.get("/agency/")
        with count_statements() as counter:
            page = client.get("/agency/?page=2").get_data(as_text=True)
        counts.append(counter.count)
        assert ("Next page" in page) == (size == 500)
    assert counts[0] == counts[1]


def test_unit_manager_totals_and_rows_stay_in_their_unit(world, make_user):
    w = world
    create_assignment(w["manager"], w["courses"][0].id, TODAY, "none", None,
                      [w["north"].id, w["south"].id], [])
    boss = make_user("manager", agency=w["agency"], unit=w["south"])
    view = compliance.page_view(boss, TODAY, 90, compliance.Filters(), 1, 50)
    assert [t.unit_name for t in view.totals] == ["South"] and view.row_count == 1
    assert [officer.name for officer, _cells in view.officers] == ["South 0"]
    other = compliance.page_view(boss, TODAY, 90, compliance.Filters(unit_id=w["north"].id),
                                 1, 50)
    assert (other.totals, other.officers, other.row_count) == ([], [], 0)


def test_rebuild_command_restores_the_officer_summaries(world, runner):
    w = world
    create_assignment(w["manager"], w["courses"][0].id, TODAY, "none", None,
                      [w["north"].id], [])
    give_certificate(w["officers"][0], w["courses"][0], date(2029, 6, 1), date(2031, 6, 1))
    summed = summaries_stored()
    officers = tally_totals(db.session, w["agency"].id, TODAY, course_id=EVERY_COURSE)
    assert summed and officers[w["north"].id]["compliant"] == 1
    db.session.execute(sa.delete(OfficerCompliance))
    db.session.execute(sa.delete(ComplianceTally).where(
        ComplianceTally.course_id == EVERY_COURSE))
    db.session.commit()
    result = runner.invoke(args=["compliance", "rebuild"])
    assert result.exit_code == 0, result.output
    assert summaries_stored() == summed
    assert tally_totals(db.session, w["agency"].id, TODAY, course_id=EVERY_COURSE) == officers
