"""API tokens, and the agency-scoped queries behind ``/api/v1/``.

Every API query starts from ``scoped``, the one place that limits rows to the token's
agency; people are limited through ``learning.access.scope_people`` like everywhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from learning.access import scope_people
from learning.accounts.models import Unit, User
from learning.agency.models import Assignment, AssignmentTarget
from learning.agency.service import record_audit
from learning.api.models import ApiToken
from learning.catalogue.models import Course, CourseVersion
from learning.certificates.models import Certificate, Completion
from learning.core.inputs import ascii_int
from learning.extensions import db
from learning.timeutil import utcnow

TOKEN_PREFIX = "wm_"
PREFIX_SHOWN = 10  # "wm_" and 7 random characters: enough to tell tokens apart
LAST_USED_EVERY = timedelta(minutes=1)  # write last_used_at at most this often
PER_PAGE, MAX_PER_PAGE = 50, 200
CERTIFICATE_STATUSES = ("valid", "expired", "revoked")


class TokenError(ValueError):
    """A token request a manager cannot make, with a message for them."""


class ApiError(Exception):
    """A request the API refuses: HTTP status, a stable error code and a message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


# Tokens -------------------------------------------------------------------------------

def hash_token(raw: str) -> str:
    """SHA-256 of a raw token, as stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


def can_manage_tokens(user: User) -> bool:
    """Only agency-wide managers: a token reads the whole agency, not one unit."""
    return user.has_role("manager") and user.agency_id is not None and user.unit_id is None


def tokens_of(agency_id: int) -> list[tuple[ApiToken, str | None]]:
    """An agency's tokens with their creator's name, active first, newest first."""
    return [(token, creator) for token, creator in db.session.execute(
        sa.select(ApiToken, User.display_name).outerjoin(User, User.id == ApiToken.created_by)
        .where(ApiToken.agency_id == agency_id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc()))]


def create_token(manager: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for the manager's agency; the raw token is returned this once only."""
    if not can_manage_tokens(manager):
        raise TokenError("Only a manager of a whole agency can create API tokens.")
    name = name.strip()
    if not name:
        raise TokenError("Give the token a name, such as the system that will use it.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(agency_id=manager.agency_id, name=name[:100], token_hash=hash_token(raw),
                     prefix=raw[:PREFIX_SHOWN], created_by=manager.id)
    db.session.add(token)
    db.session.flush()
    record_audit(manager, "api_token.create", f"api token {token.id}",
                 {"name": token.name, "prefix": token.prefix})
    db.session.commit()
    return token, raw


def revoke_token(manager: User, token_id: int, now: datetime | None = None) -> ApiToken | None:
    """Revoke one of the manager's agency's tokens (None if it is not theirs)."""
    if not can_manage_tokens(manager):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(
        ApiToken.id == token_id, ApiToken.agency_id == manager.agency_id))
    if token is None or token.revoked_at is not None:
        return token
    token.revoked_at = now or utcnow()
    record_audit(manager, "api_token.revoke", f"api token {token.id}",
                 {"name": token.name, "prefix": token.prefix})
    db.session.commit()
    return token


def authenticate(raw: str, now: datetime | None = None) -> ApiToken | None:
    """The active token for a raw token, or None; every input costs one hash and one lookup."""
    digest = hash_token(raw)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest) \
            or token.revoked_at is not None:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
        db.session.commit()
    return token


# Parameters ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ListParams:
    """Pagination and change filter common to every list."""

    after_id: int
    per_page: int
    updated_since: datetime | None


def parse_list_params(args: Mapping[str, str]) -> ListParams:
    """Read ``cursor``, ``per_page`` and ``updated_since``, refusing anything malformed."""
    cursor = ascii_int(args.get("cursor", "0") or "0")
    if cursor is None:
        raise ApiError(400, "invalid_parameter",
                       "cursor must be the value given in a previous response's next link.")
    per_page = ascii_int(args.get("per_page", str(PER_PAGE)), minimum=1, maximum=MAX_PER_PAGE)
    if per_page is None:
        raise ApiError(400, "invalid_parameter",
                       f"per_page must be a whole number from 1 to {MAX_PER_PAGE}.")
    since = args.get("updated_since")
    return ListParams(cursor, per_page, parse_timestamp(since) if since else None)


def parse_timestamp(value: str) -> datetime:
    """An ISO-8601 date or date-time as naive UTC (without an offset, UTC is assumed)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        hint = " (encode '+' in the offset as %2B)" if " " in value else ""
        raise ApiError(400, "invalid_parameter",
                       f"updated_since must be an ISO-8601 date or date-time, such as "
                       f"2026-01-31T08:00:00Z{hint}.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def parse_status(value: str | None) -> str | None:
    """A certificate status filter, if given."""
    if value and value not in CERTIFICATE_STATUSES:
        raise ApiError(400, "invalid_parameter",
                       f"status must be one of {', '.join(CERTIFICATE_STATUSES)}.")
    return value or None


def course_id_for(slug: str | None) -> int | None:
    """The id of a course filter (courses are public, so an unknown one is named)."""
    if not slug:
        return None
    course_id = db.session.scalar(sa.select(Course.id).where(Course.slug == slug))
    if course_id is None:
        raise ApiError(400, "unknown_course", f"No course has the slug '{slug}'.")
    return course_id


# Scoping ------------------------------------------------------------------------------

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

