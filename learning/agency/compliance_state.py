"""Writing compliance state: the rows of the officers an event touched, recomputed.

Every write recomputes whole officers from the source tables (assignments,
certificates, progress, attempts) with the same ``rows_for`` the pure evaluation
uses, rewrites the summaries (``OfficerCompliance``) of the officers whose rows changed,
and moves the tally by the difference, so incremental upkeep and a full ``rebuild``
cannot disagree. ``compliance_events`` decides whom an event touches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from learning.accounts.models import Unit, User
from learning.agency.compliance import (
    Held,
    Officer,
    Requirement,
    held_and_started,
    requirements_for,
    rows_for,
)
from learning.agency.compliance_models import (
    ComplianceState,
    ComplianceTally,
    OfficerCompliance,
)
from learning.agency.compliance_query import TallyKey, add_to_tally, steps
from learning.agency.compliance_summary import (
    SUMMARY_COLUMNS,
    lapses,
    officer_tally,
    summaries,
)
from learning.agency.models import AssignmentTarget
from learning.certificates.dates import add_months
from learning.timeutil import utcnow

CHUNK = 1000
COLUMNS = ("agency_id", "unit_id", "unit_name", "officer_name", "user_id", "assignment_id",
           "course_id", "due_on", "started", "completed_on", "score", "expires_on",
           "next_due", "watch_on")


def cycle_due(requirement: Requirement, held: Held) -> date | None:
    """When the recurrence asks for the course again after ``held`` (None: never)."""
    if requirement.recurrence == "months" and requirement.every_months:
        return add_months(held.issued_on, requirement.every_months)
    if requirement.recurrence == "on_expiry":
        return held.expires_on
    return None


def stored_values(agency_id: int, officer: Officer, requirement: Requirement,
                  held: Held | None, started: bool) -> tuple:
    """The ``ComplianceState`` columns (in ``COLUMNS`` order) for one pair (pure)."""
    next_due = cycle_due(requirement, held) if held else None
    expires_on = held.expires_on if held else None
    watch = [d for d in (next_due, expires_on) if d is not None]
    return (agency_id, officer.unit_id, officer.unit_name or "", officer.name, officer.id,
            requirement.assignment_id, requirement.course_id, requirement.due_on, started,
            held.issued_on if held else None, held.score if held else None, expires_on,
            next_due, min(watch) if watch else None)


def tally_of(values: Iterable[tuple], window_days: int, sign: int = 1) -> Counter[TallyKey]:
    """The tally steps of stored rows (``COLUMNS`` order), times ``sign``."""
    counts: Counter[TallyKey] = Counter()
    for row in values:
        agency_id, unit_id, course_id = row[0], row[1] or 0, row[6]
        for day, state, delta in steps(row[7], row[8], row[9], row[11], row[12], row[13],
                                       window_days):
            counts[(agency_id, unit_id, course_id, day, state)] += sign * delta
    return counts


def _officers(session, user_ids: list[int]) -> list[tuple[int, Officer]]:
    """(agency id, officer) for the active officers among ``user_ids``."""
    return [(agency_id, Officer(id_, name, "", unit_id, unit_name or "")) for
            id_, name, unit_id, unit_name, agency_id in session.execute(
                sa.select(User.id, User.display_name, User.unit_id, Unit.name, User.agency_id)
                .outerjoin(Unit, Unit.id == User.unit_id)
                .where(User.id.in_(user_ids), User.role == "officer", User.active.is_(True),
                       User.agency_id.is_not(None)))]


def computed_rows(session, user_ids: list[int]) -> list[tuple]:
    """The rows the source tables say ``user_ids`` should have now."""
    officers = _officers(session, user_ids)
    by_agency: dict[int, list[Officer]] = {}
    for agency_id, officer in officers:
        by_agency.setdefault(agency_id, []).append(officer)
    rows = []
    for agency_id, people in by_agency.items():
        requirements = requirements_for(agency_id, session=session)
        if not requirements:
            continue
        ids = [o.id for o in people]
        held, started = held_and_started(lambda column, ids=ids: column.in_(ids),
                                         {r.course_id for r in requirements}, session)
        for row in rows_for(people, requirements, held, started, utcnow().date(), 0):
            key = (row.officer.id, row.requirement.course_id)
            rows.append(stored_values(agency_id, row.officer, row.requirement, row.held,
                                      key in started))
    return rows


def refresh_users(session, user_ids: Iterable[int], window_days: int) -> None:
    """Recompute the rows of these officers, and move the tally by the difference."""
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), CHUNK):
        _refresh_chunk(session, ids[start:start + CHUNK], window_days)


def _refresh_chunk(session, ids: list[int], window_days: int) -> None:
    # Lock the officers first (PostgreSQL), so two writers never recompute one officer at once.
    session.execute(sa.select(User.id).where(User.id.in_(ids)).order_by(User.id)
                    .with_for_update())
    columns = [getattr(ComplianceState, name) for name in COLUMNS]
    old = {tuple(r) for r in session.execute(
        sa.select(*columns).where(ComplianceState.user_id.in_(ids)))}
    new = set(computed_rows(session, ids))
    if old == new:
        return
    gone, added = old - new, new - old
    if gone:
        session.execute(sa.delete(ComplianceState).where(
            ComplianceState.user_id.in_({r[4] for r in gone}),
            sa.tuple_(ComplianceState.assignment_id, ComplianceState.user_id).in_(
                [(r[5], r[4]) for r in gone])))
    if added:
        session.execute(sa.insert(ComplianceState.__table__),
                        [dict(zip(COLUMNS, row, strict=True)) for row in sorted(added)])
    counts = tally_of(added, window_days)
    counts.update(tally_of(gone, window_days, -1))
    counts.update(_refresh_summaries(session, {r[4] for r in gone | added}, old, new))
    add_to_tally(session, counts)


def _refresh_summaries(session, changed: set[int], old: set[tuple], new: set[tuple]
                       ) -> Counter[TallyKey]:
    """Rewrite the summaries of the officers whose rows changed; their tally steps' change."""
    before = summaries(r for r in old if r[4] in changed)
    after = summaries(r for r in new if r[4] in changed)
    moved = {user_id for user_id in changed if before.get(user_id) != after.get(user_id)}
    if moved:
        session.execute(sa.delete(OfficerCompliance).where(
            OfficerCompliance.user_id.in_(sorted(moved))))
        written = [dict(zip(SUMMARY_COLUMNS, after[user_id], strict=True))
                   for user_id in sorted(moved) if user_id in after]
        if written:
            session.execute(sa.insert(OfficerCompliance.__table__), written)
    counts = officer_tally((after[u] for u in moved if u in after),
                           lapses(r for r in new if r[4] in changed))
    counts.update(officer_tally((before[u] for u in moved if u in before),
                                lapses(r for r in old if r[4] in changed), -1))
    return counts


def users_of_assignments(session, assignment_ids: Iterable[int]) -> set[int]:
    """Officers who have rows for these assignments or are aimed at by them now."""
    ids = list(assignment_ids)
    targets = sa.select(AssignmentTarget.unit_id, AssignmentTarget.user_id).where(
        AssignmentTarget.assignment_id.in_(ids)).subquery()
    users = set(session.scalars(sa.select(ComplianceState.user_id).distinct()
                                .where(ComplianceState.assignment_id.in_(ids))))
    users.update(session.scalars(sa.select(User.id).where(User.role == "officer", sa.or_(
        User.unit_id.in_(sa.select(targets.c.unit_id).where(targets.c.unit_id.is_not(None))),
        User.id.in_(sa.select(targets.c.user_id).where(targets.c.user_id.is_not(None)))))))
    return users


def users_of_units(session, unit_ids: Iterable[int]) -> set[int]:
    """Officers of these units, and those with rows filed under them."""
    ids = list(unit_ids)
    users = set(session.scalars(sa.select(User.id).where(User.unit_id.in_(ids))))
    users.update(session.scalars(sa.select(ComplianceState.user_id).distinct()
                                 .where(ComplianceState.unit_id.in_(ids))))
    return users


def rebuild(session, window_days: int, agency_id: int | None = None) -> int:
    """Throw the agency's (or every) state, summaries and tally away; recompute in chunks.

    Idempotent; a repair tool, and how the migration fills the table. Returns rows written.
    """
    for model in (ComplianceState, ComplianceTally, OfficerCompliance):
        query = sa.delete(model)
        if agency_id is not None:
            query = query.where(model.agency_id == agency_id)
        session.execute(query)
    officers = sa.select(User.id).where(User.role == "officer", User.active.is_(True),
                                        User.agency_id.is_not(None)).order_by(User.id)
    if agency_id is not None:
        officers = officers.where(User.agency_id == agency_id)
    refresh_users(session, list(session.scalars(officers)), window_days)
    return session.scalar(sa.select(sa.func.count()).select_from(ComplianceState).where(
        sa.true() if agency_id is None else ComplianceState.agency_id == agency_id)) or 0
