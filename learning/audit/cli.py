"""``flask audit verify`` and ``flask audit anchor``: prove the audit log is whole."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from learning.audit.service import chain_head, record_verdict, verify_chain

audit_cli = AppGroup("audit", help="Check the audit log's hash chain.")


@audit_cli.command("verify")
@click.option("--batch", default=1000, show_default=True, help="Rows read at a time.")
@click.option("--record/--no-record", default=True, show_default=True,
              help="Append the result to the log (the admin audit page shows the last one).")
def verify_command(batch: int, record: bool) -> None:
    """Recompute every row's hash; exit 1 naming the first row changed, removed or added."""
    verdict = verify_chain(batch)
    if record:
        record_verdict(verdict)
    if not verdict.ok:
        click.echo(f"Audit chain BROKEN at row {verdict.bad_id}: {verdict.reason}. "
                   f"{verdict.rows} rows before it are intact.", err=True)
        raise SystemExit(1)
    click.echo(f"{verdict.rows} rows, chain intact, head {verdict.head}")


@audit_cli.command("anchor")
def anchor_command() -> None:
    """Print the newest row's id and hash, to keep somewhere the database cannot reach.

    A later ``verify`` whose chain no longer contains this hash at this id means rows were
    removed from the end or the whole log was rewritten (by someone able to bypass the
    database's triggers).
    """
    row_id, head = chain_head()
    click.echo(f"{row_id} {head}")
