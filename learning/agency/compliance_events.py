"""Keeping compliance state current: whom each committed change touches.

A session listener notes, at each flush, the officers, assignments and units whose
changes can move a compliance state (a lesson read or attempt started, a certificate
issued or revoked, an assignment or its targets changed, an officer added, moved,
renamed or deactivated, a unit renamed), and just before the commit recomputes
their rows (``compliance_state``). Hooking the session rather than each feature's
code keeps dependencies pointing one way: progress, assessments and certificates
know nothing of compliance, as with the ``progress_changed`` signal.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from learning.accounts.models import Unit, User
from learning.agency.compliance_models import ComplianceState
from learning.agency.compliance_state import refresh_users, users_of_assignments, users_of_units
from learning.agency.models import Assignment, AssignmentTarget
from learning.assessments.models import Attempt
from learning.certificates.models import Certificate
from learning.progress.models import LessonProgress
from learning.signals import certificates_changed

USER_FIELDS = ("role", "active", "agency_id", "unit_id", "display_name")
PENDING = "compliance_pending"


def window_days() -> int:
    """The expiring window the tally's steps are drawn with (the app's setting)."""
    return current_app.config.get("EXPIRING_WITHIN_DAYS", 90) if has_app_context() else 90


def _changed(obj, fields: tuple[str, ...]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _pending(session: so.Session) -> dict[str, set]:
    return session.info.setdefault(PENDING, {"users": set(), "assignments": set(),
                                             "units": set(), "started": set()})


def _after_flush(session: so.Session, _context) -> None:
    """Note whom this flush's changes touch (read-only: the writes wait for the commit)."""
    pending = None
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind, key = _touches(obj, obj in session.new)
        if kind is not None:
            pending = pending or _pending(session)
            pending[kind].add(key)


def _touches(obj, new: bool) -> tuple[str | None, object]:
    if isinstance(obj, Certificate):
        return "users", obj.user_id
    if isinstance(obj, LessonProgress | Attempt):
        return ("started", (obj.user_id, obj.course_id)) if new else (None, None)
    if isinstance(obj, User):
        return ("users", obj.id) if new or _changed(obj, USER_FIELDS) else (None, None)
    if isinstance(obj, Assignment):
        return "assignments", obj.id
    if isinstance(obj, AssignmentTarget):
        return "assignments", obj.assignment_id
    if isinstance(obj, Unit):
        return "units", obj.id
    return None, None


def _before_commit(session: so.Session) -> None:
    """Recompute the noted officers' rows, inside the transaction that changed them."""
    if session.new or session.deleted or session.dirty:
        session.flush()  # the commit would flush them after this hook: note them now
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    users = set(pending["users"])
    started = pending["started"]
    if started:  # a first lesson or attempt matters only to rows not started yet
        users.update(session.scalars(sa.select(ComplianceState.user_id).distinct().where(
            sa.tuple_(ComplianceState.user_id, ComplianceState.course_id).in_(sorted(started)),
            ComplianceState.started.is_(False))))
    if pending["assignments"]:
        users |= users_of_assignments(session, pending["assignments"])
    if pending["units"]:
        users |= users_of_units(session, pending["units"])
    users.discard(None)
    if users:
        refresh_users(session, users, window_days())


def _after_rollback(session: so.Session) -> None:
    session.info.pop(PENDING, None)


def _certificates_changed(session: so.Session, user_ids=(), **_extra) -> None:
    """A bulk certificate update (no ORM objects to see): note its holders for the commit."""
    _pending(session)["users"].update(user_ids)


def connect() -> None:
    """Listen on every session (once), so every commit keeps compliance current."""
    certificates_changed.connect(_certificates_changed)
    for name, listener in (("after_flush", _after_flush), ("before_commit", _before_commit),
                           ("after_rollback", _after_rollback)):
        if not sa.event.contains(so.Session, name, listener):
            sa.event.listen(so.Session, name, listener)
