"""``flask notify queue|send``: reminders through the outbox, over SMTP or to the log."""

from __future__ import annotations

import contextlib
import logging
import secrets
import signal
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import click
from flask.cli import AppGroup

from learning.agency.outbox import mail_destination, text_setting
from learning.agency.reminders import (
    MailerError,
    OutgoingMessage,
    SendReport,
    queue_digests,
    send_pending,
)
from learning.core.files import create_once
from learning.extensions import db
from learning.timeutil import utcnow

notify_cli = AppGroup("notify", help="Queue reminder digests; send the outbox.")
log = logging.getLogger("learning.agency.notify")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and as whom to send mail."""

    host: str
    port: int
    user: str
    password: str
    sender: str
    starttls: bool
    timeout: float = 30.0


def smtp_settings() -> SmtpSettings | None:
    """The SMTP settings, or None when no ``SMTP_HOST`` is configured (log instead)."""
    host = text_setting("SMTP_HOST", "").strip()
    if not host:
        return None
    sender = text_setting("SMTP_FROM", "").strip()
    if not sender:
        raise click.ClickException("SMTP_HOST is set but not SMTP_FROM: set WAYMARK_SMTP_FROM "
                                   "to the address reminders come from.")
    return SmtpSettings(
        host=host, port=int(text_setting("SMTP_PORT", "587")),
        user=text_setting("SMTP_USER", ""), password=text_setting("SMTP_PASSWORD", ""),
        sender=sender,
        starttls=text_setting("SMTP_STARTTLS", "1").strip().lower() in ("1", "true", "yes", "on"))


def _email(message: OutgoingMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = make_msgid("waymark")
    email["Auto-Submitted"] = "auto-generated"
    email["X-Waymark-Notification"] = message.key
    email.set_content(message.body)
    return email


class SmtpMailer:
    """Sends over one SMTP connection, opened on first use and reopened after an error."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpMailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.user:
                smtp.login(s.user, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        """Say goodbye to the server; a connection that already broke is simply closed."""
        if self._smtp is None:
            return
        # The messages are already accepted or failed; a QUIT that fails changes neither.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self._smtp.quit()
        self._smtp.close()
        self._smtp = None

    def send(self, message: OutgoingMessage) -> None:
        """Hand one message to the server, or raise ``MailerError``."""
        email = _email(message, self.settings.sender)
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise MailerError(f"{type(exc).__name__}: {exc}") from exc


class _Unconnected:
    """A mailer with no connection to open or close."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


class FolderMailer(_Unconnected):
    """Writes each message as an .eml file (mode 0600) into a folder (``MAIL_DIR``).

    For a demo or a machine without SMTP: the log redacts the links in reset and
    invitation messages, so a log alone cannot carry them.
    """

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    def send(self, message: OutgoingMessage) -> None:
        """Write one message to its own new file, or raise ``MailerError``."""
        path = self.folder / f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.eml"
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not create_once(path, bytes(_email(message, self.sender))):
                raise FileExistsError(path)
        except OSError as exc:
            raise MailerError(f"{type(exc).__name__}: {exc}") from exc
        log.info("Message to %s: %s (in %s)", message.to, message.subject, path)


class LogMailer(_Unconnected):
    """Writes each message to the log instead of sending it (no SMTP configured)."""

    def send(self, message: OutgoingMessage) -> None:
        """Log the message in full, so an operator without SMTP still sees it."""
        log.info("Message to %s: %s\n%s", message.to, message.subject, message.body)


@notify_cli.command("queue")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The day to evaluate compliance on (default: today, UTC).")
def queue_command(day: datetime | None):
    """Queue this week's reminder digests; running it again the same week adds nothing new."""
    report = queue_digests(day.date() if day else utcnow().date())
    click.echo(f"Queued {report.officers} officer and {report.managers} manager digest(s).")
    if report.token_notices:
        click.echo(f"Queued {report.token_notices} notice(s) of API tokens ending soon.")


@notify_cli.command("send")
@click.option("--limit", type=click.IntRange(min=1), help="Send at most this many messages.")
@click.option("--every", type=click.IntRange(min=1), metavar="SECONDS",
              help="Keep running and send again every SECONDS, until TERM or Ctrl-C "
                   "(make run keeps one beside its server).")
def send_command(limit: int | None, every: int | None):
    """Send queued messages over SMTP (WAYMARK_SMTP_HOST), else write them as files into
    WAYMARK_MAIL_DIR, else to the log."""
    settings = smtp_settings()
    if settings is None:
        if not log.hasHandlers():  # the app's log handler, when configured, writes them
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)
    if every is None:
        if _send_round(settings, limit, quiet=False).failed:
            raise click.exceptions.Exit(1)
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.is_set():
        try:
            _send_round(settings, limit, quiet=True)
        except Exception:  # the database or the mail server is away: next round
            db.session.rollback()
            log.exception("Sending queued messages failed; trying again in %d s", every)
        stop.wait(every)


def _send_round(settings: SmtpSettings | None, limit: int | None, *, quiet: bool) -> SendReport:
    """One pass over the outbox; ``quiet`` reports only a pass that sent or failed something."""
    mailer, where = configured_mailer(settings)
    with mailer:
        report = send_pending(mailer, limit)
    if not quiet or report.sent or report.failed:
        click.echo(f"Sent {report.sent} message(s) {where}; {report.failed} failed and will be "
                   f"retried; {report.skipped} taken by another sender.")
    return report


def configured_mailer(settings: SmtpSettings | None
                      ) -> tuple[SmtpMailer | FolderMailer | LogMailer, str]:
    """The mailer ``mail_destination`` names (``settings``: ``smtp_settings()``), and where
    it delivers, for a report; the CLI and the reminders job both send through it."""
    if settings:
        return SmtpMailer(settings), f"via {settings.host}:{settings.port}"
    kind, folder = mail_destination()
    if kind == "folder":
        sender = text_setting("SMTP_FROM").strip() or "waymark@localhost"
        return FolderMailer(Path(folder), sender), f"to {folder}"
    return LogMailer(), "to the log"
