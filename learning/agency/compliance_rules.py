"""Compliance rules: the states, and ``evaluate``, their one definition (pure, no database).

Pages, exports, reminders, the dashboard and an officer's own training page all
ask ``evaluate``; the SQL that derives states from stored dates
(``compliance_query``) is held equal to it by a property test.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from learning.certificates.dates import add_months

STATES = ("not_started", "in_progress", "completed", "expiring", "expired", "overdue")
# The one source of the states' names, on the page and in its exports.
STATE_LABELS = {"not_started": _l("Not started"), "in_progress": _l("In progress"),
                "completed": _l("Completed"), "expiring": _l("Expiring"),
                "expired": _l("Expired"), "overdue": _l("Overdue")}


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
