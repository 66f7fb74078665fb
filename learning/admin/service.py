"""Admin actions: agencies, units and roles (each written to the audit log), and reading
that log."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from learning.accounts.models import ROLES, UNIT_KINDS, Agency, PasswordReset, Unit, User
from learning.accounts.passwords import send_reset_link
from learning.accounts.service import AccountError, create_user, end_all_sessions
from learning.agency.models import Assignment
from learning.agency.staff_models import Invitation
from learning.audit.models import AuditEntry
from learning.audit.service import record_audit
from learning.catalogue.models import Course, CourseVersion
from learning.content.jurisdictions import KNOWN
from learning.extensions import db
from learning.timeutil import utcnow

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class AdminError(ValueError):
    """A change an admin cannot make, with a message for them."""


def agencies_with_counts() -> list[tuple[Agency, int, int]]:
    """Every agency with its number of units and of active officers (two grouped queries)."""
    units = dict(db.session.execute(sa.select(Unit.agency_id, sa.func.count()).group_by(
        Unit.agency_id)).all())
    officers = dict(db.session.execute(
        sa.select(User.agency_id, sa.func.count())
        .where(User.role == "officer", User.active.is_(True)).group_by(User.agency_id)).all())
    return [(a, units.get(a.id, 0), officers.get(a.id, 0))
            for a in db.session.scalars(sa.select(Agency).order_by(Agency.name))]


def create_agency(admin: User, name: str, slug: str) -> Agency:
    """A new agency with a unique name and slug."""
    name, slug = name.strip(), slug.strip().lower()
    if not name or not SLUG.match(slug):
        raise AdminError("Give a name and a slug of lower-case words joined by hyphens.")
    if db.session.scalar(sa.select(Agency.id).where(
            sa.or_(Agency.slug == slug, Agency.name == name))):
        raise AdminError("An agency with this name or slug exists already.")
    agency = Agency(name=name, slug=slug)
    db.session.add(agency)
    db.session.flush()
    record_audit(admin, "agency.create", f"agency {agency.id}", {"name": name, "slug": slug},
                 agency_id=agency.id)
    db.session.commit()
    return agency


def add_unit(admin: User, agency: Agency, name: str, kind: str) -> Unit:
    """A new unit (post, station...) in an agency."""
    name = name.strip()
    if not name or kind not in UNIT_KINDS:
        raise AdminError("Give the unit a name and a kind.")
    if db.session.scalar(sa.select(Unit.id).where(Unit.agency_id == agency.id,
                                                  Unit.name == name)):
        raise AdminError("This agency already has a unit with that name.")
    unit = Unit(agency_id=agency.id, name=name, kind=kind)
    db.session.add(unit)
    db.session.flush()
    record_audit(admin, "unit.create", f"unit {unit.id}", {"name": name, "kind": kind},
                 agency_id=agency.id)
    db.session.commit()
    return unit


def set_jurisdiction(admin: User, agency: Agency, code: str | None) -> None:
    """Choose whose lesson passages and final items the agency's officers get; audited."""
    code = (code or "").strip().lower() or None
    if code is not None and code not in KNOWN:
        raise AdminError(_("Unknown jurisdiction."))
    before, agency.jurisdiction = agency.jurisdiction, code
    record_audit(admin, "agency.jurisdiction", f"agency {agency.id}",
                 {"from": before, "to": code}, agency_id=agency.id)
    db.session.commit()


def change_role(admin: User, user: User, role: str, agency_id: int | None,
                unit_id: int | None) -> None:
    """Give a user a role (and the agency and unit it needs); audited."""
    if role not in ROLES:
        raise AdminError("Unknown role.")
    if role in ("officer", "manager") and agency_id is None:
        raise AdminError("Officers and managers belong to an agency.")
    if unit_id is not None:
        unit = db.session.get(Unit, unit_id)
        if unit is None or unit.agency_id != agency_id:
            raise AdminError("The unit must belong to the chosen agency.")
    if user.id == admin.id and role != "admin":
        raise AdminError("You cannot remove your own admin role.")
    before = {"role": user.role, "agency_id": user.agency_id, "unit_id": user.unit_id}
    after = {"role": role, "agency_id": agency_id, "unit_id": unit_id}
    if before == after:
        return
    user.role, user.agency_id, user.unit_id = role, agency_id, unit_id
    # What the account may see changed: every session of it ends, so none keeps old rights.
    end_all_sessions(user)
    record_audit(admin, "user.role", user.email, {"before": before, "after": after},
                 agency_id=agency_id)
    db.session.commit()


def create_account(admin: User, email: str, display_name: str, role: str,
                   agency_id: int | None, unit_id: int | None) -> tuple[User, bool]:
    """A new account without a password, and whether its set-password link was e-mailed.

    The admin never sees or chooses the password: the owner gets a three-day link
    to their own address through the password-reset flow.
    """
    agency = db.session.get(Agency, agency_id) if agency_id else None
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if (agency_id and agency is None) or (unit_id and unit is None):
        raise AdminError(_("Choose an existing agency and unit."))
    try:
        user = create_user(email, display_name, None, role, agency, unit)
    except AccountError as exc:
        db.session.rollback()
        raise AdminError(str(exc)) from exc
    record_audit(admin, "user.create", user.email, {"role": role, "agency_id": agency_id,
                                                    "unit_id": unit_id}, agency_id=agency_id)
    db.session.commit()
    return user, send_reset_link(user, requested_by=admin, welcome=True)


def set_active(admin: User, user: User, active: bool) -> bool:
    """Deactivate (every session ends, pending links are withdrawn) or reactivate; audited.

    Returns False when nothing changed. History (progress, certificates) stays.
    """
    if user.id == admin.id:
        raise AdminError(_("You cannot deactivate your own account."))
    if user.purged_at is not None:
        raise AdminError(_("This account was anonymised and cannot be reactivated."))
    if user.active == active:
        return False
    now = utcnow()
    user.active = active
    user.deactivated_at = None if active else now
    if not active:
        end_all_sessions(user)
        db.session.execute(sa.update(PasswordReset).where(
            PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None),
            PasswordReset.revoked_at.is_(None)).values(revoked_at=now))
        db.session.execute(sa.update(Invitation).where(
            Invitation.user_id == user.id, Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None)).values(revoked_at=now))
    record_audit(admin, "user.reactivate" if active else "user.deactivate", user.email,
                 {"user_id": user.id}, agency_id=user.agency_id)
    db.session.commit()
    return True


@dataclass(frozen=True)
class AuditRow:
    """An audit entry as the admin page shows it: names rather than ids."""

    entry: AuditEntry
    actor: str | None  # "Display Name <email>"; None for the system
    agency: str | None
    target: str


TARGET_ID = re.compile(r"^(agency|unit|assignment) (\d+)$")


def _target_names(targets: list[str]) -> dict[str, str]:
    """Names for targets recorded as "<kind> <id>", one query per kind on the page."""
    ids: dict[str, set[int]] = {}
    for target in targets:
        if match := TARGET_ID.match(target):
            ids.setdefault(match[1], set()).add(int(match[2]))
    queries = {
        "agency": lambda wanted: sa.select(Agency.id, Agency.name).where(Agency.id.in_(wanted)),
        "unit": lambda wanted: sa.select(Unit.id, Agency.name + ": " + Unit.name)
        .join(Agency, Agency.id == Unit.agency_id).where(Unit.id.in_(wanted)),
        "assignment": lambda wanted: sa.select(Assignment.id, CourseVersion.title)
        .join(Course, Course.id == Assignment.course_id)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
        .where(Assignment.id.in_(wanted)),
    }
    names = {}
    for kind, wanted in ids.items():
        for row_id, name in db.session.execute(queries[kind](wanted)):
            names[f"{kind} {row_id}"] = name
    return names


def audit_page(page: int, per_page: int = 50, action: str | None = None,
               outcome: str | None = None) -> tuple[list[AuditRow], bool]:
    """Audit entries, newest first, with actor and agency names joined in (no query per
    row); the bool says whether there is a next page."""
    query = (sa.select(AuditEntry, User.display_name, User.email, Agency.name)
             .outerjoin(User, User.id == AuditEntry.actor_id)
             .outerjoin(Agency, Agency.id == AuditEntry.agency_id)
             .order_by(AuditEntry.id.desc()))
    if action:
        query = query.where(AuditEntry.action == action)
    if outcome:
        query = query.where(AuditEntry.outcome == outcome)
    rows = db.session.execute(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
    names = _target_names([entry.target for entry, *_rest in rows[:per_page]])
    return [AuditRow(entry, f"{name} <{email}>" if email else None, agency,
                     names.get(entry.target, entry.target))
            for entry, name, email, agency in rows[:per_page]], len(rows) > per_page
