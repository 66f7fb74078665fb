"""The manager's dashboard: compliance per unit, its 12-month trend, and certificates expiring.

Compliance per unit, the current month and the certificates expiring come from the
compliance state table (bounded queries, states derived in SQL exactly as
``compliance.evaluate`` says); past months come from stored monthly snapshots
(``snapshots``). The pure functions over certificate histories below are the
reference definition of a month's figure, which the tests hold the snapshots to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from learning.access import Viewer
from learning.accounts.models import Unit, User
from learning.agency.compliance import (
    Filters,
    Held,
    Officer,
    Requirement,
    _scoped_unit,
    evaluate,
    requirements_for,
    state_query,
)
from learning.agency.compliance_models import ComplianceState
from learning.agency.compliance_query import (
    EVERY_COURSE,
    fold_settled,
    lapses_by_day,
    tally_totals,
)
from learning.agency.snapshots import past_months
from learning.extensions import db

COMPLIANT = frozenset({"completed", "expiring"})  # holds a valid certificate, on time
EXPIRING_DAYS = 90
EXPIRING_SHOWN = 50  # rows of the "who needs to recertify" table; the rest are counted
TREND_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Share:
    """Officers compliant out of those with assigned training, in one unit or on one day."""

    label: str
    compliant: int
    total: int
    known: bool = True  # False: a past month without a snapshot ("no data")

    @property
    def percent(self) -> int:
        return round(100 * self.compliant / self.total) if self.total else 0


@dataclass(frozen=True, slots=True)
class Expiring:
    """An officer's current certificate that expires soon."""

    officer: Officer
    course_title: str
    expires_on: date


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """One certificate, reduced to what the dashboard needs."""

    user_id: int
    course_id: int
    course_title: str
    issued_on: date
    expires_on: date | None
    revoked_on: date | None


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard shows."""

    units: list[Share]
    trend: list[Share]
    expiring: list[Expiring]
    weeks: list[tuple[date, int]]  # first day of each week ahead, certificates expiring in it
    expiring_total: int  # all expiring in the window; ``expiring`` holds the first few


def month_ends(today: date, months: int = TREND_MONTHS) -> list[date]:
    """The last day of each of the last ``months`` months, the current one ending today."""
    ends, year, month = [], today.year, today.month
    for _ in range(months):
        following = date(year + month // 12, month % 12 + 1, 1)
        ends.append(min(today, following - timedelta(days=1)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return ends[::-1]


def held_on(certificates: list[CertificateRecord], day: date) -> dict[tuple[int, int], Held]:
    """Each (officer, course)'s newest certificate issued by ``day`` and not revoked by then."""
    held: dict[tuple[int, int], Held] = {}
    for c in certificates:  # ordered by issue date, so the newest wins
        if c.issued_on <= day and (c.revoked_on is None or c.revoked_on > day):
            held[(c.user_id, c.course_id)] = Held(c.issued_on, c.expires_on)
    return held


def compliant_officers(officers: list[tuple[Officer, date]], requirements: list[Requirement],
                       created: dict[int, date], certificates: list[CertificateRecord],
                       day: date, window_days: int) -> dict[int, bool]:
    """For each officer with training assigned on ``day``: True when all of it is compliant.

    Only officers and assignments that existed on ``day`` count (pure).
    """
    held = held_on(certificates, day)
    result: dict[int, bool] = {}
    for officer, joined in officers:
        if joined > day:
            continue
        for requirement in requirements:
            if created[requirement.assignment_id] > day or not requirement.applies_to(officer):
                continue
            state, _due = evaluate(requirement, held.get((officer.id, requirement.course_id)),
                                   False, day, window_days)
            result[officer.id] = result.get(officer.id, True) and state in COMPLIANT
    return result


def expiring_soon(officers: list[tuple[Officer, date]], certificates: list[CertificateRecord],
                  today: date, days: int = EXPIRING_DAYS) -> list[Expiring]:
    """Officers' current certificates (any course) expiring within ``days``, soonest first."""
    by_id = {officer.id: officer for officer, _joined in officers}
    latest: dict[tuple[int, int], CertificateRecord] = {}
    for c in certificates:
        if c.revoked_on is None:
            latest[(c.user_id, c.course_id)] = c
    soon = [Expiring(by_id[c.user_id], c.course_title, c.expires_on) for c in latest.values()
            if c.expires_on is not None and today <= c.expires_on <= today + timedelta(days)]
    return sorted(soon, key=lambda e: (e.expires_on, e.officer.name, e.course_title))


def by_week(expiring: list[Expiring], today: date, days: int = EXPIRING_DAYS
            ) -> list[tuple[date, int]]:
    """How many certificates expire in each week from today on (the last week may be short)."""
    counts = [0] * (days // 7 + 1)
    for item in expiring:
        counts[(item.expires_on - today).days // 7] += 1
    return [(today + timedelta(weeks=n), count) for n, count in enumerate(counts)]


def build(viewer: User | Viewer, today: date, window_days: int) -> Dashboard:
    """The whole dashboard in a fixed number of statements, whatever the number of officers.

    Units and the current month come live from the state table; past months from their
    stored snapshots (months before the first snapshot are "no data").
    """
    if viewer.agency_id is None:
        return Dashboard([], [], [], by_week([], today), 0)
    units = unit_shares(viewer, today, window_days)
    unit_id = _scoped_unit(viewer, Filters())
    trend = [Share(f.month.strftime("%Y-%m"), f.compliant, f.total, f.known)
             for f in past_months(db.session, viewer.agency_id, unit_id, today,
                                  TREND_MONTHS - 1, window_days)]
    trend.append(Share(today.strftime("%Y-%m"), sum(s.compliant for s in units),
                       sum(s.total for s in units)))
    expiring, weeks, total = expiring_from_state(viewer, today, window_days)
    return Dashboard(units, trend, expiring, weeks, total)


def unit_shares(viewer: User | Viewer, today: date, window_days: int) -> list[Share]:
    """Per unit, officers whose every assigned course is compliant today, from the tally of
    officer summaries: a few rows per unit, whatever the number of officers."""
    fold_settled(db.session, viewer.agency_id, today)
    db.session.commit()
    totals = tally_totals(db.session, viewer.agency_id, today,
                          _scoped_unit(viewer, Filters()), EVERY_COURSE)
    names = dict(db.session.execute(sa.select(Unit.id, Unit.name)
                                    .where(Unit.agency_id == viewer.agency_id)).all())
    named: dict[str, list[int]] = {}
    for key, counts in totals.items():
        if counts["officers"]:
            share = named.setdefault(names.get(key) or "—", [0, 0])
            share[0] += counts["compliant"]
            share[1] += counts["officers"]
    return [Share(name, compliant, total) for name, (compliant, total) in sorted(named.items())]


def expiring_from_state(viewer: User | Viewer, today: date, window_days: int,
                        days: int = EXPIRING_DAYS, limit: int = EXPIRING_SHOWN
                        ) -> tuple[list[Expiring], list[tuple[date, int]], int]:
    """The first ``limit`` current certificates expiring within ``days`` (soonest first),
    the count per week and the total: the counts from the tally (a row per unit and day),
    the rows along an index that stops after ``limit``, whatever the number of officers."""
    per_day = lapses_by_day(db.session, viewer.agency_id, today, today + timedelta(days),
                            _scoped_unit(viewer, Filters()))
    starts = [today + timedelta(weeks=n) for n in range(days // 7 + 1)]
    counts = [0] * len(starts)
    for day, count in per_day.items():
        counts[(day - today).days // 7] += count
    rows, _order = state_query(viewer, Filters(), today, window_days)
    state = ComplianceState
    order = (state.expires_on, state.officer_name, state.user_id, state.course_id)
    soon = rows.with_only_columns(
        *order, sa.func.min(User.email).label("email"),
        sa.func.min(state.unit_id).label("unit_id"),
        sa.func.min(state.unit_name).label("unit_name")).where(
            state.expires_on >= today, state.expires_on <= today + timedelta(days)
        ).group_by(*order).order_by(*order).limit(limit)
    titles = {r.course_id: r.course_title for r in requirements_for(viewer.agency_id)}
    shown = [Expiring(Officer(row.user_id, row.officer_name, row.email, row.unit_id,
                              row.unit_name or None), titles.get(row.course_id, ""),
                      row.expires_on) for row in db.session.execute(soon)]
    return shown, list(zip(starts, counts, strict=True)), sum(counts)
