"""Invitation e-mails: the manager ticks officers and each gets a link through the outbox.

The link itself comes from ``staff.create_invitation`` (single use, expiring, only for
accounts that never had a password); here it is mailed to the officer's own address,
so the manager never has to copy it by hand.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from learning.accounts.models import User
from learning.accounts.notices import public_url
from learning.agency.reminders_models import Notification
from learning.agency.staff import OfficerNotFound, StaffError, create_invitation
from learning.core.sealed import seal
from learning.extensions import db
from learning.languages.service import language_of

INVITATION_MAIL = "invitation"
MAX_SELECTED = 500  # one request, one page of officers at most


@dataclass
class InvitationReport:
    """Who was sent an invitation, and who was not and why."""

    sent: list[User] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    unknown: int = 0  # ids the manager may not see: counted, never named


def queue_invitation_mail(officer: User, path: str, expires_at: datetime) -> Notification:
    """Add the invitation e-mail for one officer to the outbox (the caller commits)."""
    with force_locale(language_of(officer)):
        subject = _("You are invited to Waymark training")
        body = (_("Hello %(name)s,", name=officer.display_name) + "\n\n"
                + _("Your agency has given you an account for its training on Waymark. "
                    "To choose your password, open this link before %(at)s UTC:",
                    at=expires_at.strftime("%Y-%m-%d %H:%M"))
                + "\n\n" + public_url(path) + "\n\n"
                + _("The link works once. Then sign in with your email and your password.")
                + "\n")
    notification = Notification(user_id=officer.id, kind=INVITATION_MAIL,
                                dedupe_key=f"{INVITATION_MAIL}:{officer.id}:"
                                           f"{secrets.token_hex(16)}",
                                subject=subject, body=seal(body))  # a live link
    db.session.add(notification)
    return notification


def send_invitations(manager: User, officer_ids: list[int],
                     path_for: Callable[[str], str]) -> InvitationReport:
    """Create a fresh link for each selected officer and e-mail it to them.

    ``path_for(token)`` is the link's path. Officers already using their account, or
    deactivated, are refused with a reason; anyone the manager may not see is skipped.
    Each earlier link of an invited officer stops working.
    """
    report = InvitationReport()
    for officer_id in sorted(set(officer_ids))[:MAX_SELECTED]:
        try:
            invitation, token = create_invitation(manager, officer_id)
        except OfficerNotFound:
            report.unknown += 1
            continue
        except StaffError as exc:
            officer = db.session.get(User, officer_id)
            report.refused.append((officer.display_name, str(exc)))
            continue
        officer = db.session.get(User, officer_id)
        queue_invitation_mail(officer, path_for(token), invitation.expires_at)
        db.session.commit()
        report.sent.append(officer)
    return report
