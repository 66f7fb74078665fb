"""Sending the reminder outbox: each row claimed before it is sent, so two senders
(two workers, a retried job) never send one message twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from flask import current_app

from learning.accounts.models import User
from learning.agency.reminders_models import Notification
from learning.core.redact import redact_secrets
from learning.core.sealed import is_sealed, unseal
from learning.extensions import db
from learning.timeutil import utcnow

BATCH = 200  # rows read per round


def text_setting(name: str, default: str = "") -> str:
    """A text from app config, else from ``WAYMARK_<NAME>`` in the environment (as is)."""
    return str(current_app.config.get(name, os.environ.get(f"WAYMARK_{name}", default)))


def setting(name: str, default: int) -> int:
    """A number, read as ``text_setting`` reads a text."""
    return int(text_setting(name, str(default)))


def mail_destination() -> tuple[str, str]:
    """Where sent messages go: ("smtp", host), ("folder", path) or ("log", "")."""
    if host := text_setting("SMTP_HOST").strip():
        return "smtp", host
    if folder := text_setting("MAIL_DIR").strip():
        return "folder", folder
    return "log", ""


@dataclass(frozen=True)
class OutgoingMessage:
    """What a mailer needs to deliver one notification."""

    to: str
    subject: str
    body: str
    key: str


class MailerError(RuntimeError):
    """The message was not accepted; it stays in the outbox and is retried later."""


class Mailer(Protocol):
    """Delivers one message or raises ``MailerError``."""

    def send(self, message: OutgoingMessage) -> None: ...


@dataclass
class SendReport:
    """What one ``send_pending`` run did."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another sender first


def _claimable(now: datetime, lease: timedelta) -> sa.ColumnElement[bool]:
    return sa.and_(Notification.sent_at.is_(None),
                   sa.or_(Notification.claimed_at.is_(None),
                          Notification.claimed_at < now - lease))


def claim(notification_id: int, lease: timedelta) -> bool:
    """Take one unsent row for this sender, committed; False if another sender holds it.

    The conditional UPDATE is atomic on both databases, so of two senders racing for a
    row exactly one sees a row count of 1. A claim older than ``lease`` (a sender that
    died mid-way) may be taken over.
    """
    now = utcnow()
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id, _claimable(now, lease))
        .values(claimed_at=now, attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _finish(notification_id: int, **values) -> None:
    db.session.execute(sa.update(Notification)
                       .where(Notification.id == notification_id,
                              Notification.sent_at.is_(None))
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()


def _limits() -> tuple[int, timedelta]:
    """Tries per message, and how long a sender's claim holds."""
    return (setting("REMINDER_MAX_ATTEMPTS", 5),
            timedelta(seconds=setting("REMINDER_CLAIM_SECONDS", 900)))


def send_pending(mailer: Mailer, limit: int | None = None) -> SendReport:
    """Send every unsent message once: claim it, send it, then mark it sent.

    A message the mailer refuses keeps ``sent_at`` empty, records the error and is
    released for the next run (up to ``REMINDER_MAX_ATTEMPTS`` tries); it is not
    retried within the same run. A sealed body (a live link) is opened only here, and
    kept with its links redacted once sent.
    """
    max_attempts, lease = _limits()
    report = SendReport()
    last_id = 0
    while limit is None or report.sent + report.failed < limit:
        ids = db.session.scalars(
            sa.select(Notification.id)
            .where(Notification.id > last_id, Notification.attempts < max_attempts,
                   _claimable(utcnow(), lease))
            .order_by(Notification.id).limit(BATCH)).all()
        db.session.commit()
        if not ids:
            break
        for notification_id in ids:
            last_id = notification_id
            if limit is not None and report.sent + report.failed >= limit:
                break
            _send_one(mailer, notification_id, lease, report)
    return report


def _send_one(mailer: Mailer, notification_id: int, lease: timedelta,
              report: SendReport) -> None:
    """Claim one message, send it and mark it sent (or record why it failed)."""
    if not claim(notification_id, lease):
        report.skipped += 1
        return
    to, subject, body, key = db.session.execute(
        sa.select(User.email, Notification.subject, Notification.body,
                  Notification.dedupe_key)
        .join(User, User.id == Notification.user_id)
        .where(Notification.id == notification_id)).one()
    sealed = is_sealed(body)
    try:
        body = unseal(body)
        mailer.send(OutgoingMessage(to, subject, body, key))
    except (MailerError, ValueError) as exc:
        # ValueError: a body sealed under another key (SealBroken), or a message that
        # cannot be written as e-mail (a line break in a header); recorded as failed
        # rather than stopping the whole run.
        _finish(notification_id, claimed_at=None, last_error=str(exc)[:2000])
        report.failed += 1
        current_app.logger.warning("Message %s to %s failed: %s", key, to, exc)
        return
    # Sent: the row keeps what was said, not the link that still works.
    kept = {"body": redact_secrets(body)} if sealed else {}
    _finish(notification_id, sent_at=utcnow(), **kept)
    report.sent += 1


def send_keyed(mailer: Mailer, dedupe_keys: Sequence[str],
               progress: Callable[[SendReport], None] | None = None) -> SendReport:
    """Send the unsent messages among ``dedupe_keys`` (a manager's reminders), each once,
    as ``send_pending`` would; ``progress`` is told after each batch."""
    max_attempts, lease = _limits()
    report = SendReport()
    for start in range(0, len(dedupe_keys), BATCH):
        ids = db.session.scalars(
            sa.select(Notification.id)
            .where(Notification.dedupe_key.in_(dedupe_keys[start:start + BATCH]),
                   Notification.attempts < max_attempts, _claimable(utcnow(), lease))
            .order_by(Notification.id)).all()
        db.session.commit()
        for notification_id in ids:
            _send_one(mailer, notification_id, lease, report)
        if progress is not None:
            progress(report)
    return report
