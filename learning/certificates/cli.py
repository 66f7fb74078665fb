"""``flask certificates issue-missing|verify|revoke``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from learning.agency.service import record_audit
from learning.assessments.models import Attempt
from learning.certificates.offline import check_payload, check_pdf
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
def verify_command(file_or_payload: str, public_key: Path | None):
    """Check a certificate PDF, a QR payload (WM1.…) or a verify link offline, without the
    database."""
    key_path = public_key or Path(current_app.instance_path) / PUBLIC_KEY_FILE
    if not key_path.exists():
        raise click.ClickException(f"No public key at {key_path}.")
    key = load_public_key(key_path)
    today = utcnow().date()
    is_payload = file_or_payload.startswith(("WM", "http://", "https://"))
    try:
        if is_payload:
            payload = unquote(file_or_payload.split("p=", 1)[-1])
            result = check_payload(payload, key, today)
        else:
            result = check_pdf(Path(file_or_payload), key, today)
    except PayloadError as exc:
        raise click.ClickException(f"NOT VALID: {exc}") from exc
    fields = result.fields
    click.echo(f"Signature OK. Status on {today.isoformat()}: {result.status.upper()}")
    click.echo(f"  holder:  {fields.get('n')}")
    click.echo(f"  course:  {fields.get('t')} ({fields.get('k')}), version {fields.get('v')} "
               f"({fields.get('h')})")
    click.echo(f"  issued:  {fields.get('i')}   valid until: {fields.get('e') or 'no expiry'}")
    click.echo(f"  code:    {fields.get('c')}")
    click.echo("Revocation cannot be checked offline: open the verify page when you can.")


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
