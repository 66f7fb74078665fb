"""Reminder digests: queued into the outbox at most once per week and item set, sent once.

``queue_digests`` turns compliance into messages: each officer with training due soon,
expiring, expired or overdue gets one digest, and each manager with overdue (or expired)
officers in their scope gets one listing them; an agency-wide manager is also told, once,
of each API token of the agency ending within 30 days. ``send_pending`` (in ``outbox``)
delivers the outbox through any mailer; its names are importable from here too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from learning.accounts.models import Agency, User
from learning.agency import compliance
from learning.agency.compliance import ComplianceRow
from learning.agency.outbox import (  # noqa: F401  (callers import them from here)
    BATCH,
    Mailer,
    MailerError,
    OutgoingMessage,
    SendReport,
    claim,
    send_keyed,
    send_pending,
)
from learning.agency.outbox import setting as _setting
from learning.agency.reminders_models import Notification
from learning.api.models import ApiToken
from learning.core.urls import external_url
from learning.extensions import db
from learning.languages.service import language_of
from learning.timeutil import to_local, utcnow

OFFICER_DIGEST = "officer_digest"
MANAGER_DIGEST = "manager_digest"
TOKEN_EXPIRING = "token_expiring"
TOKEN_NOTICE_DAYS = 30  # an API token ending within this many days is announced
OFFICER_STATES = ("not_started", "in_progress", "expiring", "expired", "overdue")
MANAGER_STATES = ("overdue", "expired")
MANAGER_LINES = 100  # a longer list is cut, with a pointer to the compliance page




@dataclass(frozen=True)
class Digest:
    """One message ready for the outbox."""

    user_id: int
    kind: str
    dedupe_key: str
    subject: str
    body: str


@dataclass
class QueueReport:
    """How many digests a run added (already queued ones are not counted)."""

    officers: int = 0
    managers: int = 0
    token_notices: int = 0


def dedupe_key(kind: str, user_id: int, items: Iterable[tuple], today: date) -> str:
    """kind, user, ISO week and a hash of the items: the same digest is queued once a week."""
    year, week, _day = today.isocalendar()
    text = "\n".join(sorted("|".join(str(part) for part in item) for item in items))
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"{kind}:{user_id}:{year}-W{week:02d}:{digest}"


def needs_reminder(row: ComplianceRow, today: date, due_within_days: int) -> bool:
    """Training not done and due within the window, or expiring, expired or overdue."""
    if row.state in ("not_started", "in_progress"):
        return (row.due_on - today).days <= due_within_days
    return row.state in OFFICER_STATES


def _state_line(row: ComplianceRow) -> str:
    title = row.requirement.course_title
    due = row.due_on.isoformat()
    if row.state == "overdue":
        return _("%(course)s: overdue since %(date)s", course=title, date=due)
    if row.state == "expired":
        return _("%(course)s: certificate expired on %(date)s", course=title, date=due)
    if row.state == "expiring":
        return _("%(course)s: due again by %(date)s", course=title, date=due)
    if row.state == "in_progress":
        return _("%(course)s: in progress, due %(date)s", course=title, date=due)
    return _("%(course)s: not started, due %(date)s", course=title, date=due)


def _link(endpoint: str, **values: str) -> str:
    """A blank line, then the page's address at the public address (never a Host header)."""
    return f"\n\n{external_url(endpoint, **values)}"


def officer_digest(user_id: int, name: str, language: str, rows: list[ComplianceRow],
                   today: date) -> Digest:
    """The weekly digest of one officer's training that needs attention."""
    items = [(r.requirement.assignment_id, r.requirement.course_id, r.state, r.due_on)
             for r in rows]
    with force_locale(language or "en"):
        subject = ngettext("Training reminder: %(num)d course needs your attention",
                           "Training reminder: %(num)d courses need your attention", len(rows))
        lines = "\n".join(f"- {_state_line(row)}" for row in rows)
        body = (_("Hello %(name)s,", name=name) + "\n\n"
                + _("This training needs your attention:") + "\n\n" + lines + "\n\n"
                + _("Sign in to carry on where you stopped:") + "\n"
                + external_url("accounts.login", next="/progress/") + "\n")
    return Digest(user_id, OFFICER_DIGEST, dedupe_key(OFFICER_DIGEST, user_id, items, today),
                  subject, body)


def manager_digest(manager: User, rows: list[ComplianceRow], today: date) -> Digest:
    """The weekly digest of the officers in a manager's scope who are overdue."""
    items = [(r.officer.id, r.requirement.assignment_id, r.state, r.due_on) for r in rows]
    officers = len({r.officer.id for r in rows})
    with force_locale(language_of(manager)):
        subject = ngettext("Compliance: %(num)d officer is overdue",
                           "Compliance: %(num)d officers are overdue", officers)
        lines = [f"- {r.officer.name} ({r.officer.unit_name or '—'}): {_state_line(r)}"
                 for r in rows[:MANAGER_LINES]]
        if len(rows) > MANAGER_LINES:
            lines.append(_("… and %(n)d more on the compliance page.",
                           n=len(rows) - MANAGER_LINES))
        body = (_("Hello %(name)s,", name=manager.display_name) + "\n\n"
                + _("These officers are overdue with their training:") + "\n\n"
                + "\n".join(lines) + _link("agency.index", state="overdue") + "\n")
    return Digest(manager.id, MANAGER_DIGEST, dedupe_key(MANAGER_DIGEST, manager.id, items,
                                                         today), subject, body)


def token_notice(manager: User, token: ApiToken) -> Digest:
    """Tell an agency-wide manager that one of the agency's API tokens stops soon.

    Sent once per token and expiry date (not weekly): an HR system that stops
    receiving data without warning is what this is for.
    """
    with force_locale(language_of(manager)):
        day = to_local(token.expires_at, manager.time_zone_name).date().isoformat()
        subject = _("API token “%(name)s” stops working on %(date)s", name=token.name, date=day)
        body = (_("Hello %(name)s,", name=manager.display_name) + "\n\n"
                + _("Your agency's API token “%(name)s” (it starts with %(prefix)s) stops "
                    "working on %(date)s. Create its replacement and put it into the system "
                    "that uses the old one before then:", name=token.name,
                    prefix=token.prefix, date=day)
                + _link("api_tokens.index") + "\n")
    key = f"{TOKEN_EXPIRING}:{manager.id}:{token.id}:{token.expires_at:%Y-%m-%d}"
    return Digest(manager.id, TOKEN_EXPIRING, key, subject, body)


def _queue_token_notices(agency_id: int, today: date) -> int:
    """Notices for the agency's tokens ending within ``TOKEN_NOTICE_DAYS`` (once each)."""
    start = datetime.combine(today, datetime.min.time())
    tokens = db.session.scalars(sa.select(ApiToken).where(
        ApiToken.agency_id == agency_id, ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > start,
        ApiToken.expires_at <= start + timedelta(days=TOKEN_NOTICE_DAYS + 1))
        .order_by(ApiToken.id)).all()
    if not tokens:
        return 0
    managers = db.session.scalars(sa.select(User).where(
        User.agency_id == agency_id, User.role == "manager", User.unit_id.is_(None),
        User.active.is_(True)).order_by(User.id)).all()
    notices = []
    for token in tokens:
        told = managers
        if not told and token.created_by is not None:
            # No agency-wide manager: whoever made the token (an admin), if still active.
            creator = db.session.get(User, token.created_by)
            told = [creator] if creator is not None and creator.active else []
        notices.extend(token_notice(person, token) for person in told)
    return _insert(notices)


def _agency_viewer(agency_id: int) -> User:
    """The whole agency as its agency-level manager sees it (scoping stays in scope_people).

    Officers get reminders whether or not their agency has a manager, so the officer
    pass does not borrow a real manager's account. The object is never added to a session.
    """
    return User(role="manager", agency_id=agency_id, unit_id=None)


def _officer_batches(viewer: User, today: date, window_days: int, due_within_days: int
                     ) -> Iterator[list[tuple[int, str, list[ComplianceRow]]]]:
    """(officer id, name, rows needing a reminder) for the officers ``viewer`` sees, in
    batches, streamed officer by officer."""
    batch: list[tuple[int, str, list[ComplianceRow]]] = []
    rows = compliance.stream(viewer, today, window_days)
    for officer_id, group in groupby(rows, key=lambda row: row.officer.id):
        due = [row for row in group if needs_reminder(row, today, due_within_days)]
        if due:
            batch.append((officer_id, due[0].officer.name, due))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(digests: list[Digest]) -> int:
    """Add digests whose key is new; a key already queued (even concurrently) is skipped."""
    if not digests:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[dialect]
    now = utcnow()
    statement = insert(Notification).values([
        {"user_id": d.user_id, "kind": d.kind, "dedupe_key": d.dedupe_key,
         "subject": d.subject, "body": d.body, "created_at": now, "attempts": 0}
        for d in digests]).on_conflict_do_nothing(index_elements=["dedupe_key"])
    # RETURNING counts what was really added (rowcount is -1 for this on some drivers).
    return len(db.session.execute(statement.returning(Notification.id)).all())


def _reachable(officer_ids: list[int]) -> dict[int, str]:
    """The language of each officer who can sign in: active, with a password.

    A reminder to someone who cannot sign in only confuses them; they need an
    invitation from their manager instead (the staff page sends those).
    """
    rows = db.session.execute(
        sa.select(User.id, User.language, Agency.language)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .where(User.id.in_(officer_ids), User.active.is_(True),
               User.password_hash.is_not(None), User.password_hash != ""))
    return {user_id: own or agency_language or "en" for user_id, own, agency_language in rows}


def reminder_window_days() -> int:
    """Training due within this many days is reminded (``REMINDER_DUE_WITHIN_DAYS``)."""
    return _setting("REMINDER_DUE_WITHIN_DAYS", 14)


def _queue_officer_digests(viewer: User, today: date, report: QueueReport) -> list[str]:
    """Queue this week's digest for each officer ``viewer`` sees who needs one; the keys
    of all these digests, whether queued now or earlier in the week."""
    window_days = current_app.config["EXPIRING_WITHIN_DAYS"]
    due_within_days = reminder_window_days()
    keys: list[str] = []
    for batch in _officer_batches(viewer, today, window_days, due_within_days):
        languages = _reachable([officer_id for officer_id, _name, _rows in batch])
        digests = [officer_digest(officer_id, name, languages[officer_id], rows, today)
                   for officer_id, name, rows in batch if officer_id in languages]
        report.officers += _insert(digests)
        keys.extend(digest.dedupe_key for digest in digests)
    return keys


def queue_scope_digests(manager: User, today: date) -> list[str]:
    """Queue this week's digests for the officers in a manager's scope, now rather than
    on Monday (idempotent: an officer already sent the same reminder this week gets no
    second one). Returns the keys of every digest due this week, queued now or before."""
    keys = _queue_officer_digests(manager, today, QueueReport())
    db.session.commit()
    return keys


def queue_digests(today: date) -> QueueReport:
    """Queue this week's digests for every agency's officers and managers (idempotent)."""
    window_days = current_app.config["EXPIRING_WITHIN_DAYS"]
    report = QueueReport()
    for agency_id in db.session.scalars(sa.select(Agency.id).order_by(Agency.id)).all():
        _queue_officer_digests(_agency_viewer(agency_id), today, report)
        managers = db.session.scalars(sa.select(User).where(
            User.agency_id == agency_id, User.role == "manager", User.active.is_(True))
            .order_by(User.id)).all()
        for manager in managers:
            rows = [row for row in compliance.stream(manager, today, window_days)
                    if row.state in MANAGER_STATES]
            if rows:
                report.managers += _insert([manager_digest(manager, rows, today)])
        report.token_notices += _queue_token_notices(agency_id, today)
    db.session.commit()
    return report
