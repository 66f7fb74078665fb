"""``flask content check|sync|export``."""

from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from learning.catalogue.models import Course, CourseVersion
from learning.catalogue.service import export_version, sync_catalogue
from learning.content import load_catalogue
from learning.extensions import db

content_cli = AppGroup("content", help="Validate, import and export course files.")


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


def _course_lesson(value: str, option: str) -> tuple[str, str]:
    course, _, lesson = value.partition("/")
    if not course or not lesson or "/" in lesson:
        raise click.BadParameter(f"'{value}' is not COURSE/LESSON", param_hint=option)
    return course, lesson


def _choices(editorial: tuple[str, ...], notes: tuple[str, ...]
             ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """--editorial and --note values as {course: {lesson: value}}."""
    kinds: dict[str, dict[str, str]] = {}
    for value in editorial:
        course, lesson = _course_lesson(value, "--editorial")
        kinds.setdefault(course, {})[lesson] = "editorial"
    texts: dict[str, dict[str, str]] = {}
    for value in notes:
        target, sep, text = value.partition("=")
        if not sep or not text.strip():
            raise click.BadParameter(f"'{value}' is not COURSE/LESSON=TEXT", param_hint="--note")
        course, lesson = _course_lesson(target, "--note")
        texts.setdefault(course, {})[lesson] = text.strip()
    return kinds, texts


def _print_plan(plan) -> None:
    if plan.unchanged:
        click.echo(f"{plan.course_slug}: unchanged")
        return
    base = f"version {plan.current.number}" if plan.current else "nothing (a new course)"
    click.echo(f"{plan.course_slug}: compared with {base}")
    for change in plan.changes:
        extra = ""
        if change.kind == "changed":
            extra = (f": {plan.rereaders.get(change.slug, 0)} officers would re-read it "
                     "if substantive")
        click.echo(f"  {change.kind} {change.slug}{extra}")
        if change.diff:
            click.echo("".join(f"    {line}\n" for line in change.diff.splitlines()), nl=False)
    for slug, count in sorted(plan.open_attempts.items()):
        click.echo(f"  {count} attempts open at {slug} on the current version")
    if plan.quizzes_changed:
        click.echo("  question banks/assessments changed: " + ", ".join(plan.quizzes_changed))
    click.echo(f"  {plan.certificates} valid certificates (touched only with --recertify)")


@content_cli.command("sync")
@click.option("--editorial", multiple=True, metavar="COURSE/LESSON",
              help="A changed lesson whose change is editorial (progress stays). Repeatable.")
@click.option("--note", "notes", multiple=True, metavar="COURSE/LESSON=TEXT",
              help="What changed in a substantive lesson change, shown to re-readers.")
@click.option("--recertify", multiple=True, metavar="COURSE",
              help="Ask current certificate holders of COURSE to recertify.")
@click.option("--plan", "plan_only", is_flag=True,
              help="Print the changes and whom they affect; publish nothing.")
@click.option("--skip-newer", is_flag=True,
              help="A course newer in the database than its files is reported, not an error "
                   "(make run uses this).")
def sync_command(editorial, notes, recertify, plan_only, skip_newer):
    """Publish course files based on the latest published version (each course all or nothing).

    Changed lessons are substantive (those who read them re-read) unless named
    with --editorial.
    """
    courses_dir, quizzes_dir = _dirs()
    significance, texts = _choices(editorial, notes)
    report = sync_catalogue(courses_dir, quizzes_dir, significance=significance, notes=texts,
                            recertify=recertify, plan_only=plan_only)
    _print_problems(report.problems)
    for plan in report.plans:
        _print_plan(plan)
    for slug, number in report.created:
        click.echo(f"{slug}: published version {number}")
    for slug, number in report.switched:
        click.echo(f"{slug}: files match version {number}, which is current again")
    for slug in report.unchanged:
        click.echo(f"{slug}: unchanged")
    for slug, message in report.refused:
        click.echo(f"{message}" if message.startswith(f"{slug}:") else f"{slug}: {message}",
                   err=True)
    for slug in report.failed:
        click.echo(f"{slug}: NOT imported (fix the errors above)", err=True)
    tolerated = set(report.newer) if skip_newer else set()
    if report.failed or {slug for slug, _ in report.refused} - tolerated:
        raise SystemExit(1)


@content_cli.command("export")
@click.argument("course_slug")
@click.option("--version", "number", type=int, help="Version number (default: current).")
@click.option("--out", "destination", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder to write courses/ and quizzes/ into.")
def export_command(course_slug: str, number: int | None, destination: Path):
    """Write a stored course version back to files (with a marker naming the version)."""
    course = db.session.scalar(sa.select(Course).where(Course.slug == course_slug))
    if course is None:
        raise click.ClickException(f"No course '{course_slug}'.")
    query = sa.select(CourseVersion).where(CourseVersion.course_id == course.id)
    query = (query.where(CourseVersion.number == number) if number
             else query.where(CourseVersion.id == course.current_version_id))
    version = db.session.scalar(query)
    if version is None:
        raise click.ClickException(f"Course '{course_slug}' has no version {number}.")
    written = export_version(version, destination)
    click.echo(f"Wrote {len(written)} files of {course_slug} version {version.number} "
               f"({version.short_hash}) to {destination}.")
