"""The agency-scoped queries behind ``/api/v1/``: people, assignments and their results.

Every API query starts from ``scoped``, the one place that limits rows to the token's
agency; people are limited through ``learning.access.scope_people`` like everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from learning.access import scope_people
from learning.accounts.models import Unit, User
from learning.agency.models import Assignment, AssignmentTarget
from learning.api.models import ApiToken
from learning.api.params import ListParams, course_id_for
from learning.catalogue.models import Course, CourseVersion
from learning.certificates.models import Certificate, Completion
from learning.extensions import db


def _agency_viewer(agency_id: int) -> User:
    """A transient, never-saved agency-wide manager: the token sees what they would."""
    return User(role="manager", agency_id=agency_id, unit_id=None)


def scoped(token: ApiToken, model: type) -> sa.Select:
    """A select of ``model`` limited to the token's agency: every API query starts here."""
    people = scope_people(sa.select(User.id), _agency_viewer(token.agency_id))
    if model is User:
        return scope_people(sa.select(User), _agency_viewer(token.agency_id))
    if model is Assignment:
        return sa.select(Assignment).where(Assignment.agency_id == token.agency_id)
    if model in (Completion, Certificate):
        return sa.select(model).where(model.user_id.in_(people))
    if model is AssignmentTarget:
        return sa.select(AssignmentTarget).join(
            Assignment, Assignment.id == AssignmentTarget.assignment_id).where(
            Assignment.agency_id == token.agency_id,
            sa.or_(AssignmentTarget.user_id.is_(None), AssignmentTarget.user_id.in_(people)))
    raise TypeError(f"the API does not expose {model.__name__}")


@dataclass
class Page:
    """One page of results and the cursor of the next, if there is one."""

    items: list[dict[str, Any]]
    next_cursor: int | None


def _page(query: sa.Select, model: Any, params: ListParams,
          to_json: Callable[..., dict[str, Any]]) -> Page:
    """Keyset pagination by id: stable while rows are added between requests."""
    rows = db.session.execute(query.where(model.id > params.after_id).order_by(model.id)
                              .limit(params.per_page + 1)).all()
    more = len(rows) > params.per_page
    rows = rows[:params.per_page]
    return Page([to_json(*row) for row in rows], rows[-1][0].id if more else None)


def timestamp(value: datetime | None) -> str | None:
    """Naive UTC as RFC 3339 with a Z."""
    return None if value is None else value.isoformat() + "Z"


def _email_filter(query: sa.Select, email: str | None) -> sa.Select:
    """Only the person with this email (emails are stored in lower case)."""
    return query.where(User.email == email.strip().lower()) if email else query


# Officers -----------------------------------------------------------------------------

def _officer_json(user: User, unit: Unit | None) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.display_name, "role": user.role,
            "active": user.active,
            "unit": {"id": unit.id, "name": unit.name} if unit else None,
            "created_at": timestamp(user.created_at)}


def _officers(token: ApiToken) -> sa.Select:
    return scoped(token, User).add_columns(Unit).outerjoin(Unit, Unit.id == User.unit_id)


def list_officers(token: ApiToken, params: ListParams, email: str | None = None) -> Page:
    """The agency's people (officers and managers), by id."""
    query = _email_filter(_officers(token), email)
    if params.updated_since:
        query = query.where(User.created_at >= params.updated_since)
    return _page(query, User, params, _officer_json)


def get_officer(token: ApiToken, user_id: int) -> dict[str, Any] | None:
    """One person of the agency, or None (for someone elsewhere too)."""
    row = db.session.execute(_officers(token).where(User.id == user_id)).first()
    return _officer_json(*row) if row else None


# Assignments --------------------------------------------------------------------------

def list_assignments(token: ApiToken, params: ListParams, course: str | None = None) -> Page:
    """The agency's assignments (active or not) with their units and named officers."""
    query = scoped(token, Assignment).add_columns(Course.slug).join(
        Course, Course.id == Assignment.course_id)
    course_id = course_id_for(course)
    if course_id is not None:
        query = query.where(Assignment.course_id == course_id)
    if params.updated_since:
        query = query.where(Assignment.created_at >= params.updated_since)
    page = _page(query, Assignment, params, lambda a, slug: {"assignment": a, "course": slug})
    ids = [entry["assignment"].id for entry in page.items]
    targets: dict[int, dict[str, list]] = {i: {"units": [], "officers": []} for i in ids}
    rows = db.session.execute(
        scoped(token, AssignmentTarget).add_columns(Unit, User)
        .outerjoin_from(AssignmentTarget, Unit, Unit.id == AssignmentTarget.unit_id)
        .outerjoin_from(AssignmentTarget, User, User.id == AssignmentTarget.user_id)
        .where(AssignmentTarget.assignment_id.in_(ids)).order_by(AssignmentTarget.id))
    for target, unit, user in rows:
        if unit is not None:
            targets[target.assignment_id]["units"].append({"id": unit.id, "name": unit.name})
        if user is not None:
            targets[target.assignment_id]["officers"].append({"id": user.id,
                                                              "email": user.email})
    page.items = [_assignment_json(entry["assignment"], entry["course"],
                                   targets[entry["assignment"].id]) for entry in page.items]
    return page


def _assignment_json(assignment: Assignment, course: str, targets: dict) -> dict[str, Any]:
    return {"id": assignment.id, "course": course, "due_on": assignment.due_on.isoformat(),
            "recurrence": assignment.recurrence, "every_months": assignment.every_months,
            "active": assignment.active, "created_at": timestamp(assignment.created_at),
            "units": targets["units"], "officers": targets["officers"]}


# Completions --------------------------------------------------------------------------

def _completion_json(completion: Completion, email: str, course: str,
                     version: int) -> dict[str, Any]:
    return {"id": completion.id, "officer_id": completion.user_id, "officer_email": email,
            "course": course, "course_version": version, "cycle": completion.cycle,
            "completed_at": timestamp(completion.completed_at), "score": completion.score}


def list_completions(token: ApiToken, params: ListParams, officer_email: str | None = None,
                     course: str | None = None) -> Page:
    """Every time an officer of the agency met a course's completion rule."""
    query = (scoped(token, Completion).add_columns(User.email, Course.slug, CourseVersion.number)
             .join(User, User.id == Completion.user_id)
             .join(Course, Course.id == Completion.course_id)
             .join(CourseVersion, CourseVersion.id == Completion.version_id))
    query = _email_filter(query, officer_email)
    course_id = course_id_for(course)
    if course_id is not None:
        query = query.where(Completion.course_id == course_id)
    if params.updated_since:
        query = query.where(Completion.completed_at >= params.updated_since)
    return _page(query, Completion, params, _completion_json)


# Certificates -------------------------------------------------------------------------

def _status_clause(status: str, today: date) -> sa.ColumnElement[bool]:
    """The SQL form of ``Certificate.status(today) == status``."""
    if status == "revoked":
        return Certificate.revoked_at.is_not(None)
    expired = sa.and_(Certificate.expires_on.is_not(None), Certificate.expires_on <= today)
    return sa.and_(Certificate.revoked_at.is_(None), expired if status == "expired"
                   else sa.not_(expired))


def _changed_since(since: datetime, today: date) -> sa.ColumnElement[bool]:
    """Issued, revoked, or expired (its status changed by the calendar) since ``since``."""
    first_day = since.date() if since.time() == time(0) else since.date() + timedelta(days=1)
    return sa.or_(Certificate.created_at >= since, Certificate.revoked_at >= since,
                  sa.and_(Certificate.expires_on >= first_day, Certificate.expires_on <= today))


def certificate_json(certificate: Certificate, email: str, today: date,
                     verify_base: str) -> dict[str, Any]:
    """A certificate as the API shows it, with its status on ``today``."""
    return {"id": certificate.id, "code": certificate.code, "officer_id": certificate.user_id,
            "officer_email": email, "holder_name": certificate.holder_name,
            "course": certificate.course_slug, "course_title": certificate.course_title,
            "course_version": certificate.version_number, "score": certificate.score,
            "issued_on": certificate.issued_on.isoformat(),
            "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
            "status": certificate.status(today), "revoked_at": timestamp(certificate.revoked_at),
            "verify_url": f"{verify_base}/verify/{certificate.code}"}


def _certificates(token: ApiToken) -> sa.Select:
    return scoped(token, Certificate).add_columns(User.email).join(
        User, User.id == Certificate.user_id)


def list_certificates(token: ApiToken, params: ListParams, today: date, verify_base: str,
                      officer_email: str | None = None, course: str | None = None,
                      status: str | None = None) -> Page:
    """The agency's certificates, with status and expiry on ``today``."""
    query = _email_filter(_certificates(token), officer_email)
    course_id = course_id_for(course)
    if course_id is not None:
        query = query.where(Certificate.course_id == course_id)
    if status:
        query = query.where(_status_clause(status, today))
    if params.updated_since:
        query = query.where(_changed_since(params.updated_since, today))
    return _page(query, Certificate, params,
                 lambda cert, email: certificate_json(cert, email, today, verify_base))


def get_certificate(token: ApiToken, certificate_id: int, today: date,
                    verify_base: str) -> dict[str, Any] | None:
    """One certificate of the agency's people, or None."""
    row = db.session.execute(_certificates(token).where(Certificate.id == certificate_id)).first()
    return certificate_json(*row, today, verify_base) if row else None

