"""The manager's dashboard: compliance per unit, its 12-month trend, and certificates expiring.

Compliance per unit and the certificates expiring come from the compliance state
table (two queries, states derived in SQL exactly as ``compliance.evaluate`` says).
The trend needs the certificates' history, so it is one fetch fed to the pure
``evaluate`` on each month's last day; a fixed number of statements either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from learning.access import Viewer
from learning.accounts.models import User
from learning.agency.compliance import (
    Filters,
    Held,
    Officer,
    Requirement,
    _officer_query,
    evaluate,
    requirements_for,
    state_query,
)
from learning.agency.compliance_models import ComplianceState
from learning.agency.compliance_query import state_sql
from learning.agency.models import Assignment
from learning.certificates.models import Certificate
from learning.extensions import db

COMPLIANT = frozenset({"completed", "expiring"})  # holds a valid certificate, on time
EXPIRING_DAYS = 90
TREND_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Share:
    """Officers compliant out of those with assigned training, in one unit or on one day."""

    label: str
    compliant: int
    total: int

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


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment is not None else None


def build(viewer: User | Viewer, today: date, window_days: int) -> Dashboard:
    """The whole dashboard in a fixed number of statements, whatever the number of officers."""
    if viewer.agency_id is None:
        return Dashboard([], [], [], by_week([], today))
    requirements = requirements_for(viewer.agency_id)
    query = _officer_query(viewer, Filters())
    officers = [(Officer(*row[:5]), row[5].date()) for row in db.session.execute(
        query.add_columns(User.created_at))]
    created = {id_: moment.date() for id_, moment in db.session.execute(
        sa.select(Assignment.id, Assignment.created_at)
        .where(Assignment.agency_id == viewer.agency_id))}
    scoped = query.with_only_columns(User.id).order_by(None)
    certificates = [CertificateRecord(u, c, t, i, e, _day(r)) for u, c, t, i, e, r in
                    db.session.execute(
        sa.select(Certificate.user_id, Certificate.course_id, Certificate.course_title,
                  Certificate.issued_on, Certificate.expires_on, Certificate.revoked_at)
        .where(Certificate.user_id.in_(scoped))
        .order_by(Certificate.issued_on, Certificate.id))]
    trend = []
    for end in month_ends(today):
        states = compliant_officers(officers, requirements, created, certificates, end,
                                    window_days)
        trend.append(Share(end.strftime("%Y-%m"), sum(states.values()), len(states)))
    expiring = expiring_from_state(viewer, today, window_days)
    return Dashboard(unit_shares(viewer, today, window_days), trend, expiring,
                     by_week(expiring, today))


def unit_shares(viewer: User | Viewer, today: date, window_days: int) -> list[Share]:
    """Per unit, officers whose every assigned course is compliant today (one query)."""
    rows, _order = state_query(viewer, Filters(), today, window_days)
    ok = sa.case((state_sql(today, window_days).in_(COMPLIANT), 1), else_=0)
    officers = rows.with_only_columns(ComplianceState.unit_name, sa.func.min(ok).label("ok")
                                      ).group_by(ComplianceState.user_id,
                                                 ComplianceState.unit_name).subquery()
    shares = [Share(name or "—", int(compliant or 0), total) for name, total, compliant in
              db.session.execute(sa.select(officers.c.unit_name, sa.func.count(),
                                           sa.func.sum(officers.c.ok))
                                 .group_by(officers.c.unit_name))]
    return sorted(shares, key=lambda share: share.label)


def expiring_from_state(viewer: User | Viewer, today: date, window_days: int,
                        days: int = EXPIRING_DAYS) -> list[Expiring]:
    """Assigned officers' current certificates expiring within ``days``, soonest first."""
    rows, _order = state_query(viewer, Filters(), today, window_days)
    titles = {r.course_id: r.course_title for r in requirements_for(viewer.agency_id)}
    found = {(row.user_id, row.course_id): Expiring(
        Officer(row.user_id, row.officer_name, row.email, row.unit_id, row.unit_name or None),
        titles.get(row.course_id, ""), row.expires_on) for row in db.session.execute(
        rows.where(ComplianceState.expires_on >= today,
                   ComplianceState.expires_on <= today + timedelta(days)))}
    return sorted(found.values(), key=lambda e: (e.expires_on, e.officer.name, e.course_title))
