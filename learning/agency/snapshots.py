"""Monthly compliance snapshots: the dashboard's trend without walking any history.

Each month's figure per unit (officers whose every assigned course is compliant, out
of those with assigned training) is stored once, after the month ends: lazily by the
first dashboard view of the next month, or by ``flask compliance snapshot`` from cron.
It is derived in SQL from the compliance state table on the month's last day. Months
before the first snapshot are shown as "no data"; nothing is reconstructed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from learning.accounts.models import User
from learning.agency.compliance_models import ComplianceSnapshot, ComplianceState
from learning.agency.compliance_query import state_sql
from learning.agency.models import Assignment

COMPLIANT = ("completed", "expiring")  # holds a valid certificate, on time
AGENCY_KEY = -1  # the row holding the whole agency's figure, written last: "month done"


@dataclass(frozen=True, slots=True)
class MonthFigure:
    """Compliant out of total at one month's end; ``known`` is False without a snapshot."""

    month: date
    compliant: int
    total: int
    known: bool


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def previous_month(day: date) -> date:
    """The first day of the month before ``day``'s."""
    return month_start(month_start(day) - timedelta(days=1))


def months_before(today: date, count: int) -> list[date]:
    """The first days of the ``count`` months before today's, oldest first."""
    months, month = [], month_start(today)
    for _ in range(count):
        month = previous_month(month)
        months.append(month)
    return months[::-1]


def month_end(month: date) -> date:
    """The last day of the month starting on ``month``."""
    return month_start(month + timedelta(days=31)) - timedelta(days=1)


def _insert(session, table: sa.Table):
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            ).insert(table)


def officers_on(agency_id: int, day: date, window_days: int) -> sa.Subquery:
    """Per officer in the agency on ``day``: unit key and 1 when all assigned is compliant.

    Officers and assignments created after ``day`` do not count, nor do certificates
    issued after it (as the old, history-walking trend had it).
    """
    state = ComplianceState
    after = datetime.combine(day + timedelta(days=1), datetime.min.time())
    ok = sa.case((sa.and_(sa.or_(state.completed_on.is_(None), state.completed_on <= day),
                          state_sql(day, window_days).in_(COMPLIANT)), 1), else_=0)
    unit_key = sa.func.coalesce(state.unit_id, sa.literal_column("0"))  # same text twice
    return (sa.select(unit_key.label("unit_key"), sa.func.min(ok).label("ok"))
            .join(User, User.id == state.user_id)
            .join(Assignment, Assignment.id == state.assignment_id)
            .where(state.agency_id == agency_id, User.created_at < after,
                   Assignment.created_at < after)
            .group_by(state.user_id, unit_key)).subquery()


def write_snapshot(session, agency_id: int, month: date, window_days: int) -> None:
    """Store the month's figures per unit, then the agency's; a no-op once stored.

    Two statements, the first skipped once the month is done; ``ON CONFLICT DO NOTHING``
    on the unique constraint makes a concurrent writer change nothing. The caller commits.
    """
    table = ComplianceSnapshot.__table__
    officers = officers_on(agency_id, month_end(month), window_days)
    done = sa.exists().where(table.c.agency_id == agency_id, table.c.month == month,
                             table.c.unit_key == AGENCY_KEY)
    units = _insert(session, table).from_select(
        ["agency_id", "unit_key", "month", "total", "compliant"],
        sa.select(sa.literal(agency_id), officers.c.unit_key, sa.literal(month, sa.Date),
                  sa.func.count(), sa.func.sum(officers.c.ok))
        .where(~done).group_by(officers.c.unit_key).order_by(officers.c.unit_key))
    session.execute(units.on_conflict_do_nothing(
        index_elements=["agency_id", "month", "unit_key"]))
    agency = _insert(session, table).from_select(
        ["agency_id", "unit_key", "month", "total", "compliant"],
        sa.select(sa.literal(agency_id), sa.literal(AGENCY_KEY), sa.literal(month, sa.Date),
                  sa.func.coalesce(sa.func.sum(table.c.total), 0),
                  sa.func.coalesce(sa.func.sum(table.c.compliant), 0))
        .where(table.c.agency_id == agency_id, table.c.month == month,
               table.c.unit_key != AGENCY_KEY))
    session.execute(agency.on_conflict_do_nothing(
        index_elements=["agency_id", "month", "unit_key"]))


def _read(session, agency_id: int, months: list[date], unit_id: int | None
          ) -> dict[date, dict[int, tuple[int, int]]]:
    keys = [AGENCY_KEY] if unit_id is None else [AGENCY_KEY, unit_id]
    found: dict[date, dict[int, tuple[int, int]]] = {}
    for month, key, total, compliant in session.execute(
            sa.select(ComplianceSnapshot.month, ComplianceSnapshot.unit_key,
                      ComplianceSnapshot.total, ComplianceSnapshot.compliant)
            .where(ComplianceSnapshot.agency_id == agency_id,
                   ComplianceSnapshot.month.in_(months),
                   ComplianceSnapshot.unit_key.in_(keys))):
        found.setdefault(month, {})[key] = (total, compliant)
    return found


def past_months(session, agency_id: int, unit_id: int | None, today: date, count: int,
                window_days: int) -> list[MonthFigure]:
    """The ``count`` months before today's, from their snapshots (one query when stored).

    The month just ended is snapshotted here if nobody has yet (and committed).
    """
    months = months_before(today, count)
    found = _read(session, agency_id, months, unit_id)
    if months and AGENCY_KEY not in found.get(months[-1], {}):
        write_snapshot(session, agency_id, months[-1], window_days)
        session.commit()
        found = _read(session, agency_id, months, unit_id)
    figures = []
    for month in months:
        stored = found.get(month, {})
        if AGENCY_KEY not in stored:
            figures.append(MonthFigure(month, 0, 0, False))
            continue
        total, compliant = stored.get(AGENCY_KEY if unit_id is None else unit_id, (0, 0))
        figures.append(MonthFigure(month, compliant, total, True))
    return figures
