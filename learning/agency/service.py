"""Agency actions: assignments. (``record_audit`` lives in ``learning.audit.service``.)"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from learning.accounts.models import Unit, User
from learning.agency.models import RECURRENCES, Assignment, AssignmentTarget
from learning.audit.service import record_audit  # also imported from here by callers
from learning.extensions import db


class AgencyError(ValueError):
    """A request a manager cannot make, with a message for them."""


def units_of(agency_id: int) -> list[Unit]:
    """An agency's units by name."""
    return list(db.session.scalars(sa.select(Unit).where(Unit.agency_id == agency_id)
                                   .order_by(Unit.name)))


def create_assignment(manager: User, course_id: int, due_on: date, recurrence: str,
                      every_months: int | None, unit_ids: list[int],
                      officer_emails: list[str]) -> Assignment:
    """Assign a course to units and/or named officers of the manager's own agency."""
    if manager.agency_id is None:
        raise AgencyError("Only a manager of an agency can assign training.")
    if recurrence not in RECURRENCES:
        raise AgencyError("Unknown recurrence.")
    if recurrence == "months" and not every_months:
        raise AgencyError("Say after how many months the training recurs.")
    own_units = {u.id for u in units_of(manager.agency_id)
                 if manager.unit_id is None or u.id == manager.unit_id}
    if not set(unit_ids) <= own_units:
        raise AgencyError("You can only assign training to your own units.")
    officers = []
    for email in officer_emails:
        officer = db.session.scalar(sa.select(User).where(
            User.email == email.strip().lower(), User.agency_id == manager.agency_id,
            User.role == "officer"))
        if officer is None or (manager.unit_id is not None
                               and officer.unit_id != manager.unit_id):
            raise AgencyError(f"No officer of your agency has the email '{email.strip()}'.")
        officers.append(officer)
    if not unit_ids and not officers:
        raise AgencyError("Choose at least one unit or officer.")
    assignment = Assignment(agency_id=manager.agency_id, course_id=course_id, due_on=due_on,
                            recurrence=recurrence,
                            every_months=every_months if recurrence == "months" else None,
                            created_by=manager.id)
    assignment.targets = ([AssignmentTarget(unit_id=unit_id) for unit_id in sorted(unit_ids)]
                          + [AssignmentTarget(user_id=o.id) for o in officers])
    db.session.add(assignment)
    db.session.flush()
    record_audit(manager, "assignment.create", f"assignment {assignment.id}",
                 {"course_id": course_id, "due_on": due_on.isoformat(), "units": unit_ids,
                  "officers": [o.email for o in officers], "recurrence": recurrence})
    db.session.commit()
    return assignment


def assignments_of(agency_id: int) -> list[Assignment]:
    """An agency's active assignments."""
    return list(db.session.scalars(sa.select(Assignment).where(
        Assignment.agency_id == agency_id, Assignment.active.is_(True))
        .order_by(Assignment.due_on, Assignment.id)))
