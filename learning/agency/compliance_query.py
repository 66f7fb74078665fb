"""Deriving compliance states from stored dates, in Python and in SQL, and the unit tally.

``stored_state`` and ``state_sql`` say the same thing as ``compliance.evaluate``
over the columns of ``ComplianceState`` (a property test holds all three equal), so
a state changes when today crosses a stored date, without anything being rewritten.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from learning.accounts.models import Agency
from learning.agency.compliance_models import ComplianceState, ComplianceTally
from learning.timeutil import utcnow

BASE_DAY = date(1900, 1, 1)  # "always": where a row's first state and folded steps go
TallyKey = tuple[int, int, int, date, str]  # agency, unit key, course, day, state
EVERY_COURSE = 0  # the tally's course key for officers over all their courses


def stored_state(due_on: date, started: bool, completed_on: date | None,
                 expires_on: date | None, next_due: date | None, watch_on: date | None,
                 today: date, window_days: int) -> str:
    """The state of one stored row on ``today`` (pure; mirrors ``state_sql``)."""
    if completed_on is None:
        if today > due_on:
            return "overdue"
        return "in_progress" if started else "not_started"
    if expires_on is not None and today >= expires_on:
        return "expired"
    if next_due is not None and today > next_due:
        return "overdue"
    if watch_on is not None and watch_on <= today + timedelta(days=window_days):
        return "expiring"
    return "completed"


def state_sql(today: date, window_days: int, table=ComplianceState) -> sa.Case:
    """The same state as ``stored_state``, as a SQL expression over the stored dates."""
    soon = today + timedelta(days=window_days)
    return sa.case(
        (sa.and_(table.completed_on.is_(None), table.due_on < today), "overdue"),
        (sa.and_(table.completed_on.is_(None), table.started), "in_progress"),
        (table.completed_on.is_(None), "not_started"),
        (table.expires_on <= today, "expired"),
        (table.next_due < today, "overdue"),
        (table.watch_on <= soon, "expiring"),
        else_="completed")


def steps(due_on: date, started: bool, completed_on: date | None, expires_on: date | None,
          next_due: date | None, watch_on: date | None, window_days: int
          ) -> list[tuple[date, str, int]]:
    """One row as a step function: (from day, state, +1/-1), starting at ``BASE_DAY``.

    The state can only change on the days listed as candidates, so evaluating it there
    gives every step.
    """
    one = timedelta(days=1)
    candidates = {due_on + one}
    if expires_on is not None:
        candidates.add(expires_on)
    if next_due is not None:
        candidates.add(next_due + one)
    if watch_on is not None:
        candidates.add(watch_on - timedelta(days=window_days))
    result, previous = [], None
    for day in [BASE_DAY, *sorted(d for d in candidates if d > BASE_DAY)]:
        state = stored_state(due_on, started, completed_on, expires_on, next_due, watch_on,
                             day, window_days)
        if state != previous:
            if previous is not None:
                result.append((day, previous, -1))
            result.append((day, state, 1))
            previous = state
    return result


def _index_order(key: TallyKey) -> tuple:
    agency_id, unit_key, course_id, day, state = key
    return agency_id, day, unit_key, course_id, state  # the unique index's order


def add_to_tally(session, counts: Counter[TallyKey]) -> None:
    """Add the non-zero counts to the tally (one upsert, in the unique index's order, as
    ``fold_tally`` does, so writers do not deadlock on each other's rows)."""
    values = [{"agency_id": a, "unit_key": u, "course_id": c, "day": d, "state": s,
               "delta": n} for (a, u, c, d, s), n in sorted(
                   counts.items(), key=lambda item: _index_order(item[0])) if n]
    if not values:
        return
    table = ComplianceTally.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    session.execute(statement.on_conflict_do_update(
        index_elements=["agency_id", "day", "unit_key", "course_id", "state"],
        set_={"delta": table.c.delta + statement.excluded.delta}), values)


def fold_tally(session, agency_id: int, upto: date) -> None:
    """Move the agency's steps up to ``upto`` onto ``BASE_DAY``, so totals read few rows.

    Always the same three statements; the agency row's lock keeps two folds apart.
    """
    table = ComplianceTally.__table__
    session.execute(sa.select(Agency.id).where(Agency.id == agency_id).with_for_update())
    due = sa.and_(table.c.agency_id == agency_id, table.c.day > BASE_DAY, table.c.day <= upto)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).from_select(
        ["agency_id", "unit_key", "course_id", "day", "state", "delta"],
        sa.select(table.c.agency_id, table.c.unit_key, table.c.course_id,
                  sa.literal(BASE_DAY, sa.Date), table.c.state, sa.func.sum(table.c.delta))
        .where(due).group_by(table.c.agency_id, table.c.unit_key, table.c.course_id,
                             table.c.state)
        .order_by(table.c.agency_id, table.c.unit_key, table.c.course_id, table.c.state))
    session.execute(statement.on_conflict_do_update(
        index_elements=["agency_id", "day", "unit_key", "course_id", "state"],
        set_={"delta": table.c.delta + statement.excluded.delta}))
    session.execute(sa.delete(table).where(due))


def fold_settled(session, agency_id: int, today: date) -> None:
    """Fold the steps before the day before today (UTC or the viewer's, the earlier), so
    no viewer in any time zone still needs them one by one (``lapses_by_day`` does not)."""
    fold_tally(session, agency_id, min(today, utcnow().date()) - timedelta(days=1))


def tally_totals(session, agency_id: int, today: date, unit_id: int | None = None,
                 course_id: int | None = None, state: str | None = None
                 ) -> dict[int, Counter]:
    """Unit key -> rows per state on ``today`` (one grouped query over the tally).

    ``course_id=EVERY_COURSE`` gives officers instead of rows (``compliance_summary``).
    """
    table = ComplianceTally
    query = (sa.select(table.unit_key, table.state, sa.func.sum(table.delta))
             .where(table.agency_id == agency_id, table.day <= today)
             .group_by(table.unit_key, table.state))
    if unit_id is not None:
        query = query.where(table.unit_key == unit_id)
    query = query.where(table.course_id == course_id if course_id is not None
                        else table.course_id != EVERY_COURSE)
    if state is not None:
        query = query.where(table.state == state)
    totals: dict[int, Counter] = {}
    for unit_key, name, count in session.execute(query):
        if count:
            totals.setdefault(unit_key, Counter())[name] = int(count)
    return totals


def lapses_by_day(session, agency_id: int, first: date, last: date,
                  unit_id: int | None = None) -> dict[date, int]:
    """Expiry day -> certificates (one per officer and course) expiring that day, between
    ``first`` and ``last``: one grouped query over at most a row per unit and day."""
    table, one = ComplianceTally, timedelta(days=1)
    query = (sa.select(table.day, sa.func.sum(table.delta))
             .where(table.agency_id == agency_id, table.day >= first + one,
                    table.day <= last + one, table.course_id == EVERY_COURSE,
                    table.state == "lapsed")
             .group_by(table.day))
    if unit_id is not None:
        query = query.where(table.unit_key == unit_id)
    return {day - one: int(count) for day, count in session.execute(query) if count}
