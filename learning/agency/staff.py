"""Staff: officers by unit, invitations and deactivation (CSV import: staff_import.py).

Every lookup of people goes through ``scope_people``, so a manager reaches only the
officers they may see; anyone else is "not found", whatever id is asked for.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from learning.access import scope_people
from learning.accounts.models import Unit, User
from learning.accounts.service import claim_link, end_all_sessions, set_password
from learning.agency.service import AgencyError, record_audit, units_of
from learning.agency.staff_models import Invitation
from learning.extensions import db
from learning.timeutil import utcnow

INVITATION_LIFETIME = timedelta(days=7)


class StaffError(AgencyError):
    """A staff request that cannot be carried out, with a message for the manager."""


class OfficerNotFound(StaffError):
    """No officer with this id that the manager may see (shown as a 404, never a 403)."""

class InvitationError(ValueError):
    """An invitation link that cannot be used, with a message for the officer."""

    def __init__(self, message: str, status: int = 410) -> None:
        super().__init__(message)
        self.status = status

@dataclass(frozen=True)
class StaffEntry:
    """An officer on the staff page, with where their account stands."""

    officer: User
    status: str  # "active", "invited", "not_invited" or "deactivated"
    invitation_expires_at: datetime | None


@dataclass(frozen=True)
class UnitStaff:
    """The officers of one unit (``unit`` None: officers without a unit)."""

    unit: Unit | None
    officers: list[StaffEntry]

def agency_of(manager: User) -> int:
    """The manager's agency: staff actions always act inside one agency."""
    if manager.role not in ("manager", "admin") or manager.agency_id is None:
        raise StaffError(_("Only a manager of an agency can manage its staff."))
    return manager.agency_id

def visible_officer(viewer: User, officer_id: int) -> User:
    """The officer with this id if the viewer may see them, else ``OfficerNotFound``."""
    officer = db.session.scalar(scope_people(
        sa.select(User).where(User.id == officer_id, User.role == "officer"), viewer))
    if officer is None:
        raise OfficerNotFound(_("No such officer."))
    return officer


def list_staff(viewer: User) -> list[UnitStaff]:
    """The officers the viewer may see, grouped by unit, with their account status."""
    officers = db.session.scalars(scope_people(
        sa.select(User).where(User.role == "officer").options(so.joinedload(User.unit)),
        viewer).order_by(User.display_name, User.id)).all()
    now = utcnow()
    pending = dict(db.session.execute(scope_people(
        sa.select(Invitation.user_id, sa.func.max(Invitation.expires_at))
        .join(User, User.id == Invitation.user_id)
        .where(Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
               Invitation.expires_at > now), viewer).group_by(Invitation.user_id)).all())
    units = {unit.id: unit for unit in (units_of(viewer.agency_id) if viewer.agency_id else [])
             if viewer.unit_id in (None, unit.id)}  # empty units are listed too
    groups: dict[int | None, list[StaffEntry]] = {}
    for officer in officers:
        if not officer.active:
            status = "deactivated"
        elif has_signed_in(officer):
            status = "active"
        else:
            status = "invited" if officer.id in pending else "not_invited"
        groups.setdefault(officer.unit_id, []).append(
            StaffEntry(officer, status, pending.get(officer.id)))
        if officer.unit is not None:
            units.setdefault(officer.unit_id, officer.unit)
    result = [UnitStaff(unit, groups.get(unit.id, []))
              for unit in sorted(units.values(), key=lambda u: (u.name.casefold(), u.id))]
    if None in groups:
        result.append(UnitStaff(None, groups[None]))
    return result


def has_signed_in(user: User) -> bool:
    """True for an account in use: it has a password or has signed in at least once.

    Only other accounts can be invited: an invitation sets a password, and no manager
    may set the password of an account someone already uses.
    """
    return bool(user.password_hash) or user.last_login_at is not None


def _token_hash(token: str) -> str:
    """What is stored of a token: a leaked table then opens no account."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _revoke_pending_invitations(user_id: int, now: datetime) -> None:
    """Withdraw an officer's unused links, so at most one link works at a time."""
    db.session.execute(sa.update(Invitation).where(
        Invitation.user_id == user_id, Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None)).values(revoked_at=now))


def create_invitation(manager: User, officer_id: int,
                      lifetime: timedelta = INVITATION_LIFETIME) -> tuple[Invitation, str]:
    """A new link for an officer to set a password; the raw token is returned only here.

    Any earlier pending link of the officer stops working.
    """
    officer = visible_officer(manager, officer_id)
    if not officer.active:
        raise StaffError(_("Reactivate this officer before inviting them."))
    if has_signed_in(officer):
        record_audit(manager, "invitation.create", officer.email, {"reason": "account in use"},
                     outcome="denied")
        db.session.commit()
        raise StaffError(_("%(name)s already has a password, so they cannot be invited. If "
                           "they forgot it, they can use \"Forgot your password?\" on the "
                           "sign-in page.", name=officer.display_name))
    now = utcnow()
    _revoke_pending_invitations(officer.id, now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(user_id=officer.id, token_hash=_token_hash(token),
                            expires_at=now + lifetime, created_by=manager.id, created_at=now)
    db.session.add(invitation)
    db.session.flush()
    record_audit(manager, "invitation.create", officer.email,
                 {"invitation_id": invitation.id, "expires_at": invitation.expires_at.isoformat()})
    db.session.commit()
    return invitation, token


def check_invitation(token: str) -> Invitation:
    """The invitation this token opens, or ``InvitationError`` saying why it cannot be used."""
    invitation = db.session.scalar(sa.select(Invitation).where(
        Invitation.token_hash == _token_hash(token)))
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid. Check that you copied all "
                                "of it, or ask your manager for a new one."), status=404)
    if invitation.used_at is not None:
        raise InvitationError(_("This invitation link has already been used. Sign in with "
                                "your password, or ask your manager for a new link."))
    user = db.session.get(User, invitation.user_id)
    if user is None or not user.active:
        raise InvitationError(_("This account is deactivated. Ask your manager."))
    if invitation.revoked_at is not None:
        raise InvitationError(_("This invitation link was withdrawn: a newer one was created, "
                                "or the account was deactivated. Use the latest link your "
                                "manager sent you."))
    if invitation.expires_at <= utcnow():
        raise InvitationError(_("This invitation link has expired. Ask your manager for a "
                                "new one."))
    if has_signed_in(user):
        raise InvitationError(_("This account already has a password. Sign in with it, or use "
                                "\"Forgot your password?\" on the sign-in page."))
    return invitation


def accept_invitation(token: str, password: str) -> User:
    """Set the officer's password through a valid invitation, which is then used up.

    The invitation is claimed with one conditional UPDATE, so two requests racing
    with the same link cannot both succeed.
    """
    invitation = check_invitation(token)
    user = db.session.get(User, invitation.user_id)
    set_password(user, password)
    now = utcnow()
    if not claim_link(Invitation, invitation.id, now):
        db.session.rollback()
        raise InvitationError(_("This invitation link has already been used. Sign in with "
                                "your password, or ask your manager for a new link."))
    _revoke_pending_invitations(user.id, now)
    record_audit(user, "invitation.accept", user.email, {"invitation_id": invitation.id},
                 agency_id=user.agency_id)
    db.session.commit()
    return user


def deactivate_officer(manager: User, officer_id: int) -> User:
    """Stop an officer signing in; their progress, attempts and certificates stay as history."""
    officer = visible_officer(manager, officer_id)
    if officer.active:
        officer.active = False
        officer.deactivated_at = utcnow()
        end_all_sessions(officer)
        _revoke_pending_invitations(officer.id, officer.deactivated_at)
        record_audit(manager, "staff.deactivate", officer.email, {"user_id": officer.id})
        db.session.commit()
    return officer


def reactivate_officer(manager: User, officer_id: int) -> User:
    """Let a deactivated officer sign in again, with the history they had."""
    officer = visible_officer(manager, officer_id)
    if not officer.active:
        officer.active = True
        officer.deactivated_at = None
        record_audit(manager, "staff.reactivate", officer.email, {"user_id": officer.id})
        db.session.commit()
    return officer
