"""``flask compliance rebuild`` and ``snapshot``: repair the state table, store a month."""

from __future__ import annotations

from datetime import date

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from learning.accounts.models import Agency
from learning.agency.compliance_events import window_days
from learning.agency.compliance_state import rebuild
from learning.agency.snapshots import month_start, previous_month, write_snapshot
from learning.extensions import db
from learning.timeutil import utcnow

compliance_cli = AppGroup("compliance", help="Maintain the compliance state table.")


@compliance_cli.command("rebuild")
@click.option("--agency", "agency_id", type=int, default=None,
              help="Only this agency's rows (default: every agency).")
def rebuild_command(agency_id: int | None) -> None:
    """Throw the compliance state away and recompute it (idempotent; a repair tool)."""
    rows = rebuild(db.session, window_days(), agency_id)
    db.session.commit()
    click.echo(f"Compliance state rebuilt: {rows} rows.")


@compliance_cli.command("snapshot")
@click.option("--agency", "agency_id", type=int, default=None,
              help="Only this agency (default: every agency).")
@click.option("--month", "month_text", default=None, metavar="YYYY-MM",
              help="The month to store (default: the month just ended).")
def snapshot_command(agency_id: int | None, month_text: str | None) -> None:
    """Store the dashboard's monthly figures (idempotent; run it early each month)."""
    try:
        month = (date.fromisoformat(f"{month_text}-01") if month_text
                 else previous_month(utcnow().date()))
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM", param_hint="--month") from error
    if month >= month_start(utcnow().date()):
        raise click.BadParameter("only a month that has ended", param_hint="--month")
    query = sa.select(Agency.id).order_by(Agency.id)
    if agency_id is not None:
        query = query.where(Agency.id == agency_id)
    agencies = list(db.session.scalars(query))
    for id_ in agencies:
        write_snapshot(db.session, id_, month, window_days())
        db.session.commit()
    click.echo(f"Compliance snapshot of {month:%Y-%m}: {len(agencies)} agencies.")
