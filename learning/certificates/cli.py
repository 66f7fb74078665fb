"""``flask certificates issue-missing|verify|revoke``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import unquote

import click
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from flask.cli import AppGroup

from learning.agency.service import record_audit
from learning.assessments.models import Attempt
from learning.certificates.offline import OfflineResult, check_payload, check_pdf
from learning.certificates.pades import CERT_FILE, PdfSignatureError, load_trusted_certificate
from learning.certificates.service import (
    certificate_pdf,
    find_certificate,
    record_completion,
    revoke_certificate,
)
from learning.certificates.signing import PUBLIC_KEY_FILE, PayloadError, load_public_key
from learning.extensions import db
from learning.progress.models import LessonProgress
from learning.timeutil import utcnow

certificates_cli = AppGroup("certificates", help="Issue, check and revoke certificates.")


def completion_candidates() -> list[tuple[int, int]]:
    """Every (officer, course) pair with any progress: the ones that may be complete."""
    pairs = set(db.session.execute(sa.select(LessonProgress.user_id, LessonProgress.course_id)))
    pairs |= set(db.session.execute(sa.select(Attempt.user_id, Attempt.course_id)))
    return sorted(pairs)


@certificates_cli.command("issue-missing")
@click.option("--pdf-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write each new certificate's PDF into this folder.")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
def issue_missing_command(pdf_dir: Path | None, paper: str):
    """Issue every certificate whose completion rule is met but which does not exist yet."""
    pairs = completion_candidates()
    issued = 0
    if pdf_dir:
        pdf_dir.mkdir(parents=True, exist_ok=True)
    with click.progressbar(pairs, label="Checking completions", show_pos=True) as bar:
        for user_id, course_id in bar:
            certificate = record_completion(user_id, course_id)
            if certificate is None:
                continue
            issued += 1
            if pdf_dir:
                (pdf_dir / f"{certificate.code}.pdf").write_bytes(
                    certificate_pdf(certificate, paper))
    click.echo(f"Checked {len(pairs)} officer-course pairs; {issued} certificates issued or "
               "already present.")


@certificates_cli.command("verify")
@click.argument("file_or_payload")
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path),
              help="The instance's public key (default: instance/" + PUBLIC_KEY_FILE + ").")
@click.option("--certificate", "certificate_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The instance's PDF signing certificate, trusted as the root (default: "
                   "instance/" + CERT_FILE + ").")
def verify_command(file_or_payload: str, public_key: Path | None, certificate_file: Path | None):
    """Check a certificate PDF, a QR payload (WM1.…) or a verify link offline, without the
    database."""
    instance = Path(current_app.instance_path)
    key_path = public_key or instance / PUBLIC_KEY_FILE
    if not key_path.exists():
        raise click.ClickException(f"No public key at {key_path}.")
    key = load_public_key(key_path)
    today = utcnow().date()
    if file_or_payload.startswith(("WM", "http://", "https://")):
        try:
            result = check_payload(unquote(file_or_payload.split("p=", 1)[-1]), key, today)
        except PayloadError as exc:
            raise click.ClickException(f"NOT VALID: {exc}") from exc
    else:
        result = _check_pdf_file(Path(file_or_payload), key,
                                 certificate_file or instance / CERT_FILE, today)
        click.echo("PDF signed by this instance, unchanged since; the printed holder, "
                   "course, dates and code match the signed record.")
    fields = result.fields
    click.echo(f"Signature OK. Status on {today.isoformat()}: {result.status.upper()}")
    click.echo(f"  holder:  {fields.get('n')}")
    click.echo(f"  course:  {fields.get('t')} ({fields.get('k')}), version {fields.get('v')} "
               f"({fields.get('h')})")
    click.echo(f"  issued:  {fields.get('i')}   valid until: {fields.get('e') or 'no expiry'}")
    click.echo(f"  code:    {fields.get('c')}")
    click.echo("Revocation cannot be checked offline: open the verify page when you can.")


def _check_pdf_file(path: Path, key: Ed25519PublicKey, certificate_path: Path,
                    today: date) -> OfflineResult:
    """Every check of a PDF; a ClickException naming each failed check if any failed."""
    if not certificate_path.exists():
        raise click.ClickException(f"No PDF signing certificate at {certificate_path}.")
    try:
        trusted = load_trusted_certificate(certificate_path)
        data = path.read_bytes()
    except (PdfSignatureError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    report = check_pdf(data, key, trusted, today)
    if report.failures or report.result is None:
        count = len(report.failures)
        lines = [f"  - {check}: {problem}" for check, problem in report.failures]
        raise click.ClickException("\n".join(
            [f"NOT VALID: {count} check{'s' if count != 1 else ''} failed:", *lines]))
    return report.result


@certificates_cli.command("revoke")
@click.argument("code")
@click.option("--reason", required=True, help="Kept in the record; never shown publicly.")
def revoke_command(code: str, reason: str):
    """Revoke a certificate by its code."""
    certificate = find_certificate(code)
    if certificate is None:
        raise click.ClickException(f"No certificate with the code '{code}'.")
    revoke_certificate(certificate, reason, admin_id=None)
    record_audit(None, "certificate.revoke", certificate.code,
                 {"reason": reason, "via": "command line"},
                 agency_id=certificate.user.agency_id)
    db.session.commit()
    click.echo(f"Revoked {code} ({certificate.holder_name}, {certificate.course_title}).")
