"""Compliance: the state of every assigned (officer, course) pair on a given day.

``evaluate`` (``compliance_rules``, re-exported here) is the one definition of the
states, a pure function over plain records. The pages and exports read
``ComplianceState``, kept current as events happen (``compliance_state``,
``compliance_events``): a page is one paginated query plus one grouped query over
the tally, and an export streams rows in chunks, so both cost the same at 2,000 and
at 100,000 officers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby

import sqlalchemy as sa

from learning.access import Viewer, scope_people
from learning.accounts.models import Unit, User
from learning.agency.compliance_models import ComplianceState
from learning.agency.compliance_query import fold_settled, state_sql, tally_totals
from learning.agency.compliance_rules import (  # noqa: F401  (the names callers import)
    STATE_LABELS,
    STATES,
    ComplianceRow,
    Held,
    Officer,
    Requirement,
    evaluate,
    rows_for,
)
from learning.agency.models import Assignment, AssignmentTarget
from learning.assessments.models import Attempt
from learning.catalogue.models import Course, CourseVersion
from learning.certificates.models import Certificate
from learning.extensions import db
from learning.progress.models import LessonProgress

CHUNK = 1000


@dataclass(frozen=True)
class Filters:
    """What the manager narrowed the view to."""

    unit_id: int | None = None
    course_id: int | None = None
    state: str | None = None


def _officer_query(viewer: User | Viewer, filters: Filters) -> sa.Select:
    query = (sa.select(User.id, User.display_name, User.email, User.unit_id, Unit.name)
             .outerjoin(Unit, Unit.id == User.unit_id)
             .where(User.role == "officer", User.active.is_(True)))
    query = scope_people(query, viewer)
    if filters.unit_id is not None:
        query = query.where(User.unit_id == filters.unit_id)
    return query.order_by(Unit.name, User.display_name, User.id)


def requirements_for(agency_id: int, course_id: int | None = None, session=None
                     ) -> list[Requirement]:
    """The agency's active assignments, with their targets (two queries)."""
    session = session or db.session
    query = (sa.select(Assignment, CourseVersion.title)
             .join(Course, Course.id == Assignment.course_id)
             .join(CourseVersion, CourseVersion.id == Course.current_version_id)
             .where(Assignment.agency_id == agency_id, Assignment.active.is_(True))
             .order_by(CourseVersion.title, Assignment.id))
    if course_id is not None:
        query = query.where(Assignment.course_id == course_id)
    assignments = session.execute(query).all()
    targets: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for assignment_id, unit_id, user_id in session.execute(
            sa.select(AssignmentTarget.assignment_id, AssignmentTarget.unit_id,
                      AssignmentTarget.user_id)
            .join(Assignment, Assignment.id == AssignmentTarget.assignment_id)
            .where(Assignment.agency_id == agency_id)):
        if unit_id is not None:
            targets[assignment_id][0].add(unit_id)
        else:
            targets[assignment_id][1].add(user_id)
    return [Requirement(a.id, a.course_id, title, a.due_on, a.recurrence, a.every_months,
                        frozenset(targets[a.id][0]), frozenset(targets[a.id][1]))
            for a, title in assignments]


def held_and_started(user_filter, course_ids: set[int], session=None
                     ) -> tuple[dict[tuple[int, int], Held], set[tuple[int, int]]]:
    """Newest valid certificate per (officer, course), and the pairs with any progress."""
    session = session or db.session
    held: dict[tuple[int, int], Held] = {}
    for user_id, course_id, issued_on, expires_on, recertify_by, score in session.execute(
            sa.select(Certificate.user_id, Certificate.course_id, Certificate.issued_on,
                      Certificate.expires_on, Certificate.recertify_by, Certificate.score)
            .where(user_filter(Certificate.user_id), Certificate.course_id.in_(course_ids),
                   Certificate.revoked_at.is_(None))
            .order_by(Certificate.issued_on, Certificate.id)):
        # A course change that asked holders to recertify brings the expiry forward.
        expiry = min((d for d in (expires_on, recertify_by) if d is not None), default=None)
        held[(user_id, course_id)] = Held(issued_on, expiry, score)  # newest wins
    started = {(user_id, course_id) for user_id, course_id in session.execute(
        sa.select(LessonProgress.user_id, LessonProgress.course_id).distinct()
        .where(user_filter(LessonProgress.user_id), LessonProgress.course_id.in_(course_ids))
        .union(sa.select(Attempt.user_id, Attempt.course_id).distinct()
               .where(user_filter(Attempt.user_id), Attempt.course_id.in_(course_ids))))}
    return held, started


def _scoped_unit(viewer: User | Viewer, filters: Filters) -> int | None:
    """The one unit the rows come from, if the filter or the viewer's scope fixes it."""
    if viewer.role == "manager" and viewer.unit_id is not None:
        if filters.unit_id not in (None, viewer.unit_id):
            return -1  # another unit than the manager's own: nothing
        return viewer.unit_id
    return filters.unit_id


def state_query(viewer: User | Viewer, filters: Filters, today: date, window_days: int,
                 user_ids: list[int] | None = None) -> tuple[sa.Select, tuple]:
    """The viewer's matching state rows with each officer's email, and their page order.

    With ``user_ids`` (one page's officers), only theirs, found through the officer index.
    """
    state = ComplianceState
    query = scope_people(sa.select(*state.__table__.c, User.email)
                         .join(User, User.id == state.user_id), viewer)
    unit_id = _scoped_unit(viewer, filters)
    order = (state.unit_name, state.officer_name, state.user_id)
    if user_ids is not None:
        query = query.where(state.user_id.in_(user_ids))
    else:
        query = query.where(state.agency_id == viewer.agency_id)
        if unit_id is not None:
            query, order = query.where(state.unit_id == unit_id), order[1:]
    if filters.course_id is not None:
        query = query.where(state.course_id == filters.course_id)
    if filters.state is not None:
        query = query.where(state_sql(today, window_days) == filters.state)
    return query, order


def _compliance_row(row: sa.Row, requirement: Requirement, today: date,
                    window_days: int) -> ComplianceRow:
    officer = Officer(row.user_id, row.officer_name, row.email, row.unit_id,
                      row.unit_name or None)
    held = Held(row.completed_on, row.expires_on, row.score) if row.completed_on else None
    state, due = evaluate(requirement, held, row.started, today, window_days)
    return ComplianceRow(officer, requirement, state, due, held)


def _by_officer(rows: Iterable[sa.Row], requirements: dict[int, tuple[int, Requirement]],
                today: date, window_days: int) -> Iterator[list[ComplianceRow]]:
    """Consecutive rows grouped per officer, each officer's in assignment order."""
    for _user_id, group in groupby(rows, key=lambda row: row.user_id):
        cells = sorted((r for r in group if r.assignment_id in requirements),
                       key=lambda r: requirements[r.assignment_id][0])
        yield [_compliance_row(r, requirements[r.assignment_id][1], today, window_days)
               for r in cells]


def _ordered_requirements(agency_id: int, course_id: int | None
                          ) -> dict[int, tuple[int, Requirement]]:
    return {r.assignment_id: (n, r) for n, r in enumerate(requirements_for(agency_id,
                                                                           course_id))}


def stream(viewer: User | Viewer, today: date, window_days: int, filters: Filters = Filters(),
           chunk: int = CHUNK) -> Iterator[ComplianceRow]:
    """Every matching row, read from the state table in chunks so memory stays flat."""
    if viewer.agency_id is None:
        return
    requirements = _ordered_requirements(viewer.agency_id, filters.course_id)
    query, order = state_query(viewer, filters, today, window_days)
    result = db.session.execute(query.order_by(*order).execution_options(yield_per=chunk))
    for cells in _by_officer(result, requirements, today, window_days):
        yield from cells


def snapshot(viewer: User | Viewer, today: date, window_days: int,
             filters: Filters = Filters()) -> list[ComplianceRow]:
    """Every matching row, as a list (small agencies, tests, reminders)."""
    return list(stream(viewer, today, window_days, filters))


@dataclass(frozen=True)
class UnitTotals:
    """Counts of rows per state in one unit."""

    unit_name: str
    counts: Counter

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def totals_by_unit(rows: Iterable[ComplianceRow]) -> list[UnitTotals]:
    """Per-unit counts of each state, in unit order."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        counts[row.officer.unit_name or "—"][row.state] += 1
    return [UnitTotals(name, counts[name]) for name in sorted(counts)]


@dataclass(frozen=True)
class PageView:
    """What the compliance page shows: totals for everything, rows for one page."""

    totals: list[UnitTotals]
    officers: list[tuple[Officer, dict[int, ComplianceRow]]]
    has_next: bool
    row_count: int
    courses: dict[int, str]


def unit_totals(viewer: User | Viewer, today: date, filters: Filters) -> list[UnitTotals]:
    """Rows per state and unit from the tally: one grouped query, whatever the size."""
    unit_id = _scoped_unit(viewer, filters)
    fold_settled(db.session, viewer.agency_id, today)
    db.session.commit()
    totals = tally_totals(db.session, viewer.agency_id, today, unit_id, filters.course_id,
                          filters.state)
    names = dict(db.session.execute(sa.select(Unit.id, Unit.name)
                                    .where(Unit.agency_id == viewer.agency_id)).all())
    named: dict[str, Counter] = defaultdict(Counter)
    for key, counts in totals.items():
        named[names.get(key) or "—"].update(counts)
    return [UnitTotals(name, named[name]) for name in sorted(named)]


def page_view(viewer: User | Viewer, today: date, window_days: int, filters: Filters,
              page: int, page_size: int) -> PageView:
    """Totals per unit over every matching row and the matrix for one page of officers.

    The same statements at any size: the tally's totals, one page of officer ids in a
    stable order (LIMIT/OFFSET along an index), and those officers' rows.
    """
    if viewer.agency_id is None or viewer.role not in ("admin", "manager"):
        return PageView([], [], False, 0, {})
    totals = unit_totals(viewer, today, filters)
    requirements = _ordered_requirements(viewer.agency_id, filters.course_id)
    query, order = state_query(viewer, filters, today, window_days)
    ids = list(db.session.scalars(
        query.with_only_columns(ComplianceState.user_id).group_by(*order).order_by(*order)
        .limit(page_size + 1).offset((page - 1) * page_size)))
    page_ids = ids[:page_size]
    position = {user_id: n for n, user_id in enumerate(page_ids)}
    rows = sorted((row for row in db.session.execute(state_query(
        viewer, filters, today, window_days, page_ids)[0])
        if row.agency_id == viewer.agency_id), key=lambda row: position[row.user_id])
    kept = [(cells[0].officer, {c.requirement.course_id: c for c in cells})
            for cells in _by_officer(rows, requirements, today, window_days) if cells]
    return PageView(totals, kept, len(ids) > page_size, sum(t.total for t in totals),
                    {r.course_id: r.course_title for _n, r in requirements.values()})
