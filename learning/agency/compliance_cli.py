"""``flask compliance rebuild``: recompute the compliance state table from the source tables."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from learning.agency.compliance_events import window_days
from learning.agency.compliance_state import rebuild
from learning.extensions import db

compliance_cli = AppGroup("compliance", help="Maintain the compliance state table.")


@compliance_cli.command("rebuild")
@click.option("--agency", "agency_id", type=int, default=None,
              help="Only this agency's rows (default: every agency).")
def rebuild_command(agency_id: int | None) -> None:
    """Throw the compliance state away and recompute it (idempotent; a repair tool)."""
    rows = rebuild(db.session, window_days(), agency_id)
    db.session.commit()
    click.echo(f"Compliance state rebuilt: {rows} rows.")
