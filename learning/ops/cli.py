"""``flask backup --out FILE`` and ``flask restore FILE --yes [--force]``."""

from __future__ import annotations

from pathlib import Path

import click

from learning.agency.service import record_audit
from learning.extensions import db
from learning.ops.backup import BackupError, create_backup, restore_backup


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file to write (readable by its owner only).")
def backup_command(out: Path):
    """Back up the database (SQLite: online backup API; PostgreSQL: pg_dump)."""
    try:
        manifest = create_backup(out)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    record_audit(None, "backup.create", out.name,
                 {"database": manifest.database, "revision": manifest.revision,
                  "via": "command line"})
    db.session.commit()
    click.echo(f"Backed up the {manifest.database} database (schema revision "
               f"{manifest.revision}) to {out}.")


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the current database is replaced.")
@click.option("--force", is_flag=True,
              help="Restore a backup made at another schema revision (then: flask db upgrade).")
def restore_command(backup_file: Path, yes: bool, force: bool):
    """Replace the database with a backup; stop the app servers and workers first."""
    if not yes:
        raise click.ClickException("Restoring replaces every record in the database with "
                                   "the backup's. Stop the app servers and job workers, then "
                                   "run again with --yes.")
    try:
        manifest = restore_backup(backup_file, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    record_audit(None, "backup.restore", backup_file.name,
                 {"database": manifest.database, "revision": manifest.revision,
                  "created": manifest.created, "forced": force, "via": "command line"})
    db.session.commit()
    click.echo(f"Restored the backup of {manifest.created} (schema revision "
               f"{manifest.revision}).")
