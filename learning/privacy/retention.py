"""The retention schedule: anonymise people deactivated longer ago than the retention period.

What stays: ids, roles, agency and unit, dates, scores, completions and certificates
(verifiable by code). What goes: name, email, password, links and tokens, quiz answers,
message bodies, and the holder's name on certificate rows. Audit rows are append-only
and are never changed; they point at the anonymised account by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from learning.accounts.models import PasswordReset, User
from learning.accounts.service import end_all_sessions
from learning.agency.reminders_models import Notification
from learning.agency.service import record_audit
from learning.agency.staff_models import Invitation
from learning.assessments.models import Attempt
from learning.certificates.dates import add_months
from learning.certificates.models import Certificate
from learning.extensions import db
from learning.timeutil import utcnow


@dataclass
class PurgeReport:
    """Who a purge anonymised (or, in a dry run, would anonymise)."""

    cutoff: datetime
    user_ids: list[int] = field(default_factory=list)
    dry_run: bool = False


def retention_cutoff(now: datetime, years: int) -> datetime:
    """People deactivated before this moment are past the retention period."""
    return datetime.combine(add_months(now.date(), -12 * years), now.time())


def departed(cutoff: datetime) -> sa.Select:
    """Deactivated accounts, not yet purged, deactivated before ``cutoff``."""
    return sa.select(User).where(User.active.is_(False), User.purged_at.is_(None),
                                 User.deactivated_at.is_not(None),
                                 User.deactivated_at < cutoff).order_by(User.id)


def pseudonym(user_id: int) -> str:
    """The name a purged account keeps."""
    return f"Former officer #{user_id}"


def anonymise(user: User, now: datetime) -> None:
    """Remove one person's personal data, keeping scores and verifiable certificates."""
    user.display_name = pseudonym(user.id)
    user.email = f"purged-{user.id}@invalid"
    user.password_hash = None
    user.last_login_at = None
    user.purged_at = now
    end_all_sessions(user)
    for model in (Invitation, PasswordReset, Notification):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))
    db.session.execute(sa.update(Attempt).where(Attempt.user_id == user.id)
                       .values(answers={}).execution_options(synchronize_session=False))
    db.session.execute(sa.update(Certificate).where(Certificate.user_id == user.id)
                       .values(holder_name="").execution_options(synchronize_session=False))
    record_audit(None, "privacy.purge", f"user {user.id}", {"user_id": user.id},
                 agency_id=user.agency_id)


def purge_departed(years: int, dry_run: bool = False, now: datetime | None = None
                   ) -> PurgeReport:
    """Anonymise everyone deactivated more than ``years`` ago; a dry run changes nothing."""
    now = now or utcnow()
    report = PurgeReport(cutoff=retention_cutoff(now, years), dry_run=dry_run)
    people = db.session.scalars(departed(report.cutoff)).all()
    report.user_ids = [person.id for person in people]
    if dry_run:
        return report
    for person in people:
        anonymise(person, now)
    db.session.commit()
    return report
