"""``flask content check|sync|export``."""

from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from learning.catalogue.archive_cli import import_zip_command, write_zip
from learning.catalogue.models import Course, CourseVersion
from learning.catalogue.service import export_version, sync_catalogue
from learning.content import load_catalogue
from learning.extensions import db

content_cli = AppGroup("content", help="Validate, import and export course files.")
content_cli.add_command(import_zip_command)


def _dirs() -> tuple[Path, Path]:
    return Path(current_app.config["COURSES_DIR"]), Path(current_app.config["QUIZZES_DIR"])


def _print_problems(problems) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)


@content_cli.command("check")
@click.option("--strict", is_flag=True, help="Fail on warnings too (CI runs this).")
def check_command(strict: bool):
    """Validate every course and quiz file; exit 1 on errors."""
    courses_dir, quizzes_dir = _dirs()
    catalogue = load_catalogue(courses_dir, quizzes_dir)
    _print_problems(catalogue.problems)
    errors = sum(p.severity == "error" for p in catalogue.problems)
    warnings = len(catalogue.problems) - errors
    click.echo(f"{len(catalogue.loads)} courses checked: {errors} errors, {warnings} warnings.")
    if catalogue.failed(strict):
        raise SystemExit(1)


@content_cli.command("sync")
def sync_command():
    """Import course files as published versions (each course all or nothing)."""
    courses_dir, quizzes_dir = _dirs()
    report = sync_catalogue(courses_dir, quizzes_dir)
    _print_problems(report.problems)
    for slug, number in report.created:
        click.echo(f"{slug}: published version {number}")
    for slug, number in report.switched:
        click.echo(f"{slug}: files match version {number}, which is current again")
    for slug in report.unchanged:
        click.echo(f"{slug}: unchanged")
    for slug in report.failed:
        click.echo(f"{slug}: NOT imported (fix the errors above)", err=True)
    if not report.ok:
        raise SystemExit(1)


@content_cli.command("export")
@click.argument("course_slug")
@click.option("--version", "number", type=int, help="Version number (default: current).")
@click.option("--out", "destination", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write courses/ and quizzes/ into.")
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a zip of courses/<slug>/ and quizzes/<slug>/ instead.")
def export_command(course_slug: str, number: int | None, destination: Path | None,
                   zip_path: Path | None):
    """Write a stored course version back to files, or to a zip."""
    if (destination is None) == (zip_path is None):
        raise click.UsageError("Give either --out FOLDER or --zip FILE.")
    course = db.session.scalar(sa.select(Course).where(Course.slug == course_slug))
    if course is None:
        raise click.ClickException(f"No course '{course_slug}'.")
    query = sa.select(CourseVersion).where(CourseVersion.course_id == course.id)
    query = (query.where(CourseVersion.number == number) if number
             else query.where(CourseVersion.id == course.current_version_id))
    version = db.session.scalar(query)
    if version is None:
        raise click.ClickException(f"Course '{course_slug}' has no version {number}.")
    if zip_path is not None:
        write_zip(version, zip_path)
        return
    written = export_version(version, destination)
    click.echo(f"Wrote {len(written)} files of {course_slug} version {version.number} "
               f"({version.short_hash}) to {destination}.")
