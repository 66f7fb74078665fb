"""Agency actions: assignments. (``record_audit`` lives in ``learning.audit.service``.)"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from learning.accounts.models import Unit, User
from learning.agency.models import RECURRENCES, Assignment, AssignmentTarget
from learning.audit.service import record_audit  # also imported from here by callers
from learning.extensions import db
from learning.timeutil import utcnow


class AgencyError(ValueError):
    """A request a manager cannot make, with a message for them."""


def units_of(agency_id: int) -> list[Unit]:
    """An agency's units by name."""
    return list(db.session.scalars(sa.select(Unit).where(Unit.agency_id == agency_id)
                                   .order_by(Unit.name)))


class PastDueDate(AgencyError):
    """A due date before today: allowed only once the manager has confirmed it."""


def _check_terms(manager: User, due_on: date, recurrence: str, every_months: int | None,
                 today: date | None, allow_past: bool) -> None:
    """Refuse terms no assignment may have; a past due date needs ``allow_past``."""
    if manager.agency_id is None:
        raise AgencyError(_("Only a manager of an agency can assign training."))
    if recurrence not in RECURRENCES:
        raise AgencyError(_("Unknown recurrence."))
    if recurrence == "months" and not every_months:
        raise AgencyError(_("Say after how many months the training recurs."))
    if due_on < (today or utcnow().date()) and not allow_past:
        raise PastDueDate(_("The due date %(date)s is in the past: everyone assigned is "
                            "overdue at once. Assign anyway?", date=due_on.isoformat()))


def _targets(manager: User, unit_ids: list[int], officer_emails: list[str]
             ) -> tuple[list[int], list[User]]:
    """The units and officers named, each checked to be within the manager's reach."""
    own_units = {u.id for u in units_of(manager.agency_id)
                 if manager.unit_id is None or u.id == manager.unit_id}
    if not set(unit_ids) <= own_units:
        raise AgencyError(_("You can only assign training to your own units."))
    officers: dict[int, User] = {}
    for email in officer_emails:
        officer = db.session.scalar(sa.select(User).where(
            User.email == email.strip().lower(), User.agency_id == manager.agency_id,
            User.role == "officer"))
        if officer is None or (manager.unit_id is not None
                               and officer.unit_id != manager.unit_id):
            raise AgencyError(_("No officer of your agency has the email '%(email)s'.",
                                email=email.strip()))
        officers[officer.id] = officer
    if not unit_ids and not officers:
        raise AgencyError(_("Choose at least one unit or officer."))
    return sorted(set(unit_ids)), list(officers.values())


def create_assignment(manager: User, course_id: int, due_on: date, recurrence: str,
                      every_months: int | None, unit_ids: list[int],
                      officer_emails: list[str], *, allow_past: bool = True,
                      today: date | None = None) -> Assignment:
    """Assign a course to units and/or named officers of the manager's own agency.

    With ``allow_past=False`` a due date before today raises ``PastDueDate``, so the
    page can ask the manager to confirm it.
    """
    # Who is assigned first: a wrong email is reported before a past date is questioned,
    # so the manager is not asked to confirm a form that would fail anyway.
    unit_ids, officers = _targets(manager, unit_ids, officer_emails)
    _check_terms(manager, due_on, recurrence, every_months, today, allow_past)
    assignment = Assignment(agency_id=manager.agency_id, course_id=course_id, due_on=due_on,
                            recurrence=recurrence,
                            every_months=every_months if recurrence == "months" else None,
                            created_by=manager.id)
    assignment.targets = ([AssignmentTarget(unit_id=unit_id) for unit_id in unit_ids]
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


def _reaches(manager: User, assignment: Assignment) -> bool:
    """A unit manager may change only assignments aimed wholly inside their unit."""
    if manager.unit_id is None:
        return True
    officer_units = dict(db.session.execute(sa.select(User.id, User.unit_id).where(
        User.id.in_([t.user_id for t in assignment.targets if t.user_id]))).all())
    return all(t.unit_id == manager.unit_id if t.unit_id else
               officer_units.get(t.user_id) == manager.unit_id for t in assignment.targets)


def assignment_for(manager: User, assignment_id: int) -> Assignment | None:
    """The manager's active assignment with this id, or None (shown as a 404)."""
    assignment = db.session.scalar(sa.select(Assignment).where(
        Assignment.id == assignment_id, Assignment.agency_id == manager.agency_id,
        Assignment.active.is_(True)))
    if manager.agency_id is None or assignment is None or not _reaches(manager, assignment):
        return None
    return assignment


def _terms(assignment: Assignment, emails: dict[int, str]) -> dict[str, Any]:
    """What an assignment says, for the audit log's before and after."""
    return {"course_id": assignment.course_id, "due_on": assignment.due_on.isoformat(),
            "recurrence": assignment.recurrence, "every_months": assignment.every_months,
            "units": sorted(t.unit_id for t in assignment.targets if t.unit_id),
            "officers": sorted(emails.get(t.user_id, "") for t in assignment.targets
                               if t.user_id)}


def officer_emails_of(assignment: Assignment) -> dict[int, str]:
    """The emails of the officers an assignment names, by id."""
    ids = [t.user_id for t in assignment.targets if t.user_id]
    return dict(db.session.execute(sa.select(User.id, User.email).where(User.id.in_(ids))).all())


def update_assignment(manager: User, assignment: Assignment, course_id: int, due_on: date,
                      recurrence: str, every_months: int | None, unit_ids: list[int],
                      officer_emails: list[str], *, allow_past: bool = False,
                      today: date | None = None) -> Assignment:
    """Change an assignment's course, due date, recurrence or targets (audited before/after)."""
    due_changed = due_on != assignment.due_on
    unit_ids, officers = _targets(manager, unit_ids, officer_emails)  # as in create
    _check_terms(manager, due_on, recurrence, every_months, today,
                 allow_past or not due_changed)
    before = _terms(assignment, officer_emails_of(assignment))
    assignment.course_id, assignment.due_on, assignment.recurrence = (course_id, due_on,
                                                                       recurrence)
    assignment.every_months = every_months if recurrence == "months" else None
    wanted = {(unit_id, None) for unit_id in unit_ids} | {(None, o.id) for o in officers}
    kept = [t for t in assignment.targets if (t.unit_id, t.user_id) in wanted]
    for target in assignment.targets:
        if target not in kept:
            db.session.delete(target)  # deleted before any insert: the pairs stay unique
    db.session.flush()
    have = {(t.unit_id, t.user_id) for t in kept}
    assignment.targets = kept + [AssignmentTarget(unit_id=u, user_id=o)
                                 for u, o in sorted(wanted - have, key=str) ]
    db.session.flush()
    after = _terms(assignment, {o.id: o.email for o in officers})
    if after != before:
        record_audit(manager, "assignment.update", f"assignment {assignment.id}",
                     {"before": before, "after": after})
    db.session.commit()
    return assignment


def remove_assignment(manager: User, assignment: Assignment) -> None:
    """Stop requiring the course; progress and certificates stay, the row stays as history."""
    assignment.active = False
    record_audit(manager, "assignment.remove", f"assignment {assignment.id}",
                 _terms(assignment, officer_emails_of(assignment)))
    db.session.commit()


def save_time_zone(actor: User, agency, form) -> bool:
    """Set the agency's zone from a submitted form, audited and committed; False with the
    reason on the form's field (admins and agency-wide managers share this)."""
    from learning.accounts.service import AccountError, set_agency_time_zone

    try:
        zone = set_agency_time_zone(agency, form.time_zone.data)
    except AccountError as exc:
        db.session.rollback()
        form.time_zone.errors = [str(exc)]
        return False
    record_audit(actor, "agency.time_zone", agency.slug, {"time_zone": zone},
                 agency_id=agency.id)
    db.session.commit()
    return True
