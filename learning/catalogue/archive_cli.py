"""``flask content import-zip FILE`` and the zip half of ``flask content export``."""

from __future__ import annotations

from pathlib import Path

import click

from learning.catalogue.archive import MAX_ZIP_BYTES
from learning.catalogue.models import CourseVersion
from learning.catalogue.versions import export_zip
from learning.catalogue.zip_import import ZipImportError, load_zip, publish_zip
from learning.extensions import db


def write_zip(version: CourseVersion, destination: Path) -> None:
    """Write the version's zip to ``destination`` (a file; never through a link)."""
    if destination.is_symlink():
        raise click.ClickException(f"{destination} is a symbolic link; choose another name.")
    destination.write_bytes(export_zip(version))
    click.echo(f"Wrote {version.course.slug} version {version.number} ({version.short_hash}) "
               f"to {destination}.")


@click.command("import-zip")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_zip_command(archive: Path):
    """Check a course zip like ``content check`` and publish it like ``content sync``."""
    with archive.open("rb") as handle:
        data = handle.read(MAX_ZIP_BYTES + 1)
    loaded, problems = load_zip(data)
    for problem in problems:
        click.echo(str(problem), err=True)
    if loaded is None or any(problem.severity == "error" for problem in problems):
        click.echo(f"{archive}: NOT imported (fix the problems above)", err=True)
        raise SystemExit(1)
    try:
        version, outcome = publish_zip(loaded, None)
        db.session.commit()
    except ZipImportError as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from None
    except Exception:
        db.session.rollback()
        raise
    if outcome == "unchanged":
        click.echo(f"{loaded.slug}: unchanged (version {version.number})")
    elif outcome == "switched":
        click.echo(f"{loaded.slug}: files match version {version.number}, which is current again")
    else:
        click.echo(f"{loaded.slug}: published version {version.number}")
