"""Each officer's compliance summed up from their state rows, and its tally steps (pure).

An officer is compliant on a day when every assigned course holds a valid certificate
that has not expired and whose recurrence is not yet due, so the days they are
compliant always run up to one last day: ``compliant_until``. The tally holds, per
unit, "from day D on, N more officers are compliant" (under ``EVERY_COURSE``), so the
dashboard's shares read a few rows per unit against today whatever the agency's size,
and the certificates expiring per day, for its "expiring" weeks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from learning.agency.compliance_query import BASE_DAY, EVERY_COURSE, TallyKey

FOREVER = date(9999, 12, 31)  # ``compliant_until`` of an officer whose certificates never lapse
SUMMARY_COLUMNS = ("user_id", "agency_id", "unit_id", "assignments", "completed",
                   "compliant_until")
# Positions in a ``compliance_state.COLUMNS`` row.
AGENCY, UNIT, USER, COURSE, COMPLETED, EXPIRES, NEXT_DUE = 0, 1, 4, 6, 9, 11, 12


def row_compliant_until(completed_on: date | None, expires_on: date | None,
                        next_due: date | None) -> date | None:
    """The last day one stored row is "completed" or "expiring" (None: not held).

    Mirrors ``compliance_query.stored_state``: held, and today before the expiry and
    not after the next cycle's due date.
    """
    if completed_on is None:
        return None
    ends = [d for d in (expires_on and expires_on - timedelta(days=1), next_due) if d]
    return min(ends, default=FOREVER)


def summaries(rows: Iterable[tuple]) -> dict[int, tuple]:
    """User id -> ``SUMMARY_COLUMNS`` values, from state rows (``COLUMNS`` order)."""
    grouped: dict[int, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[USER], []).append(row)
    result = {}
    for user_id, own in grouped.items():
        ends = [row_compliant_until(r[COMPLETED], r[EXPIRES], r[NEXT_DUE]) for r in own]
        until = None if None in ends else min(ends)
        result[user_id] = (user_id, own[0][AGENCY], own[0][UNIT], len(own),
                           sum(r[COMPLETED] is not None for r in own), until)
    return result


def lapses(rows: Iterable[tuple]) -> set[tuple[int, int, int, int, date]]:
    """(agency, unit key, user, course, expiry) of each certificate the rows rest on."""
    return {(r[AGENCY], r[UNIT] or 0, r[USER], r[COURSE], r[EXPIRES]) for r in rows
            if r[EXPIRES] is not None}


def officer_tally(summary: Iterable[tuple], lapsed: Iterable[tuple], sign: int = 1
                  ) -> Counter[TallyKey]:
    """The tally steps of officer summaries and certificate lapses, times ``sign``."""
    counts: Counter[TallyKey] = Counter()
    for _user, agency_id, unit_id, _rows, _completed, until in summary:
        unit_key = unit_id or 0
        counts[(agency_id, unit_key, EVERY_COURSE, BASE_DAY, "officers")] += sign
        if until is not None:
            counts[(agency_id, unit_key, EVERY_COURSE, BASE_DAY, "compliant")] += sign
            if until < FOREVER:
                day = max(BASE_DAY, until + timedelta(days=1))
                counts[(agency_id, unit_key, EVERY_COURSE, day, "compliant")] -= sign
    for agency_id, unit_key, _user, _course, expires_on in lapsed:
        day = max(BASE_DAY, expires_on + timedelta(days=1))
        counts[(agency_id, unit_key, EVERY_COURSE, day, "lapsed")] += sign
    return counts
