"""Compliance: the state of every assigned (officer, course) pair on a given day.

The evaluation is a pure function over plain records. Two drivers feed it: a
snapshot for pages (a fixed number of queries, whatever the agency's size) and
a stream for exports (officers in chunks, so memory stays flat).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from learning.access import Viewer, scope_people
from learning.accounts.models import Unit, User
from learning.agency.models import Assignment, AssignmentTarget
from learning.assessments.models import Attempt
from learning.catalogue.models import Course, CourseVersion
from learning.certificates.dates import add_months
from learning.certificates.models import Certificate
from learning.extensions import db
from learning.progress.models import LessonProgress

STATES = ("not_started", "in_progress", "completed", "expiring", "expired", "overdue")
# The one source of the states' names, on the page and in its exports.
STATE_LABELS = {"not_started": _l("Not started"), "in_progress": _l("In progress"),
                "completed": _l("Completed"), "expiring": _l("Expiring"),
                "expired": _l("Expired"), "overdue": _l("Overdue")}
CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Officer:
    """What compliance needs to know about an officer."""

    id: int
    name: str
    email: str
    unit_id: int | None
    unit_name: str


@dataclass(frozen=True, slots=True)
class Requirement:
    """One assignment, reduced to what evaluation needs."""

    assignment_id: int
    course_id: int
    course_title: str
    due_on: date
    recurrence: str
    every_months: int | None
    unit_ids: frozenset[int]
    user_ids: frozenset[int]

    def applies_to(self, officer: Officer) -> bool:
        return officer.id in self.user_ids or (officer.unit_id in self.unit_ids)


@dataclass(frozen=True, slots=True)
class Held:
    """An officer's newest valid (not revoked) certificate for a course."""

    issued_on: date
    expires_on: date | None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    """One cell of the matrix, with the certificate it rests on (if any)."""

    officer: Officer
    requirement: Requirement
    state: str
    due_on: date
    held: Held | None = None

    @property
    def completed_on(self) -> date | None:
        return self.held.issued_on if self.held else None

    @property
    def score(self) -> int | None:
        """The certificate's score in whole percent, as printed on it."""
        return round(self.held.score) if self.held and self.held.score is not None else None

    @property
    def certificate_expires_on(self) -> date | None:
        return self.held.expires_on if self.held else None


def evaluate(requirement: Requirement, held: Held | None, started: bool, today: date,
             window_days: int) -> tuple[str, date]:
    """(state, date the current cycle is due) for one officer and one assignment.

    Without a valid certificate: overdue after the due date, else in progress or not
    started. With one: expired once it expires; otherwise the next cycle's due date
    comes from the recurrence ("months" after issue, or the expiry date), and the
    pair is overdue after it, expiring within ``window_days`` of it (or of the
    certificate's expiry), and completed before that.
    """
    if held is None:
        if today > requirement.due_on:
            return "overdue", requirement.due_on
        return ("in_progress" if started else "not_started"), requirement.due_on
    if held.expires_on is not None and today >= held.expires_on:
        return "expired", held.expires_on
    next_due = None
    if requirement.recurrence == "months" and requirement.every_months:
        next_due = add_months(held.issued_on, requirement.every_months)
    elif requirement.recurrence == "on_expiry":
        next_due = held.expires_on
    if next_due is not None and today > next_due:
        return "overdue", next_due
    watch = [d for d in (next_due, held.expires_on) if d is not None]
    if watch and (min(watch) - today).days <= window_days:
        return "expiring", min(watch)
    return "completed", next_due or requirement.due_on


def rows_for(officers: Iterable[Officer], requirements: list[Requirement],
             held: dict[tuple[int, int], Held], started: set[tuple[int, int]], today: date,
             window_days: int) -> Iterator[ComplianceRow]:
    """Evaluate every assigned pair among ``officers`` (pure)."""
    for officer in officers:
        for requirement in requirements:
            if not requirement.applies_to(officer):
                continue
            key = (officer.id, requirement.course_id)
            found = held.get(key)
            state, due = evaluate(requirement, found, key in started, today, window_days)
            yield ComplianceRow(officer, requirement, state, due, found)


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


def requirements_for(agency_id: int, course_id: int | None = None) -> list[Requirement]:
    """The agency's active assignments, with their targets (two queries)."""
    query = (sa.select(Assignment, CourseVersion.title)
             .join(Course, Course.id == Assignment.course_id)
             .join(CourseVersion, CourseVersion.id == Course.current_version_id)
             .where(Assignment.agency_id == agency_id, Assignment.active.is_(True))
             .order_by(CourseVersion.title, Assignment.id))
    if course_id is not None:
        query = query.where(Assignment.course_id == course_id)
    assignments = db.session.execute(query).all()
    targets: dict[int, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for assignment_id, unit_id, user_id in db.session.execute(
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


def _held_and_started(user_filter, course_ids: set[int]
                      ) -> tuple[dict[tuple[int, int], Held], set[tuple[int, int]]]:
    held: dict[tuple[int, int], Held] = {}
    for user_id, course_id, issued_on, expires_on, recertify_by, score in db.session.execute(
            sa.select(Certificate.user_id, Certificate.course_id, Certificate.issued_on,
                      Certificate.expires_on, Certificate.recertify_by, Certificate.score)
            .where(user_filter(Certificate.user_id), Certificate.course_id.in_(course_ids),
                   Certificate.revoked_at.is_(None))
            .order_by(Certificate.issued_on, Certificate.id)):
        # A course change that asked holders to recertify brings the expiry forward.
        expiry = min((d for d in (expires_on, recertify_by) if d is not None), default=None)
        held[(user_id, course_id)] = Held(issued_on, expiry, score)  # newest wins
    started = {(user_id, course_id) for user_id, course_id in db.session.execute(
        sa.select(LessonProgress.user_id, LessonProgress.course_id).distinct()
        .where(user_filter(LessonProgress.user_id), LessonProgress.course_id.in_(course_ids))
        .union(sa.select(Attempt.user_id, Attempt.course_id).distinct()
               .where(user_filter(Attempt.user_id), Attempt.course_id.in_(course_ids))))}
    return held, started


def _matches(row: ComplianceRow, filters: Filters) -> bool:
    return (filters.course_id is None or row.requirement.course_id == filters.course_id) and \
        (filters.state is None or row.state == filters.state)


def snapshot(viewer: User | Viewer, today: date, window_days: int,
             filters: Filters = Filters()) -> list[ComplianceRow]:
    """Every matching row in a fixed number of queries (for pages)."""
    if viewer.agency_id is None:
        return []
    requirements = requirements_for(viewer.agency_id, filters.course_id)
    officers = [Officer(*row) for row in db.session.execute(_officer_query(viewer, filters))]
    course_ids = {r.course_id for r in requirements}
    scoped = _officer_query(viewer, filters).with_only_columns(User.id).order_by(None)
    held, started = _held_and_started(lambda column: column.in_(scoped), course_ids)
    return [row for row in rows_for(officers, requirements, held, started, today, window_days)
            if _matches(row, filters)]


def stream(viewer: User | Viewer, today: date, window_days: int, filters: Filters = Filters(),
           chunk: int = CHUNK) -> Iterator[ComplianceRow]:
    """The same rows as ``snapshot``, produced chunk by chunk so memory stays flat (exports)."""
    if viewer.agency_id is None:
        return
    requirements = requirements_for(viewer.agency_id, filters.course_id)
    course_ids = {r.course_id for r in requirements}
    result = db.session.execute(_officer_query(viewer, filters).execution_options(
        yield_per=chunk))
    for partition in result.partitions(chunk):
        officers = [Officer(*row) for row in partition]
        ids = [officer.id for officer in officers]
        held, started = _held_and_started(lambda column, ids=ids: column.in_(ids), course_ids)
        for row in rows_for(officers, requirements, held, started, today, window_days):
            if _matches(row, filters):
                yield row


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
    officer_count: int
    row_count: int
    courses: dict[int, str]


def page_view(viewer: User | Viewer, today: date, window_days: int, filters: Filters,
              page: int, page_size: int) -> PageView:
    """Totals per unit over every matching row and the matrix for one page of officers.

    One pass over the rows, keeping only counts and the page's rows, so a large
    agency costs time in proportion to its size but no more memory than a page.
    """
    if viewer.agency_id is None:
        return PageView([], [], 0, 0, {})
    requirements = requirements_for(viewer.agency_id, filters.course_id)
    officers = [Officer(*row) for row in db.session.execute(_officer_query(viewer, filters))]
    scoped = _officer_query(viewer, filters).with_only_columns(User.id).order_by(None)
    held, started = _held_and_started(lambda column: column.in_(scoped),
                                      {r.course_id for r in requirements})
    counts: dict[str, Counter] = defaultdict(Counter)
    first, last = (page - 1) * page_size, page * page_size
    kept: list[tuple[Officer, dict[int, ComplianceRow]]] = []
    ordinal, previous, rows = -1, None, 0
    for row in rows_for(officers, requirements, held, started, today, window_days):
        if not _matches(row, filters):
            continue
        rows += 1
        counts[row.officer.unit_name or "—"][row.state] += 1
        if row.officer.id != previous:
            ordinal, previous = ordinal + 1, row.officer.id
            if first <= ordinal < last:
                kept.append((row.officer, {}))
        if first <= ordinal < last:
            kept[-1][1][row.requirement.course_id] = row
    return PageView([UnitTotals(name, counts[name]) for name in sorted(counts)], kept,
                    ordinal + 1, rows, {r.course_id: r.course_title for r in requirements})
