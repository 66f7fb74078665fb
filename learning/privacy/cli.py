"""``flask privacy purge``: apply the retention schedule."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from learning.privacy.retention import purge_departed

privacy_cli = AppGroup("privacy", help="Apply the data-retention schedule.")


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="List who would be anonymised; change nothing.")
@click.option("--years", type=click.IntRange(min=1),
              help="Retention period (default: WAYMARK_RETENTION_YEARS).")
def purge_command(dry_run: bool, years: int | None):
    """Anonymise people deactivated longer ago than the retention period."""
    years = years or current_app.config["RETENTION_YEARS"]
    report = purge_departed(years, dry_run=dry_run)
    verb = "Would anonymise" if dry_run else "Anonymised"
    click.echo(f"{verb} {len(report.user_ids)} account(s) deactivated before "
               f"{report.cutoff.date().isoformat()} ({years} year retention).")
    for user_id in report.user_ids:
        click.echo(f"  user {user_id}")
