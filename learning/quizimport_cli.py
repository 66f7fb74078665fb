"""``flask quizzes import``: convert Moodle GIFT or Aiken files into a question bank."""

from pathlib import Path

import click
from flask.cli import AppGroup

from learning.content.importers import FORMATS, detect_format, import_file
from learning.content.questions import TAG

quizzes_cli = AppGroup("quizzes", help="Work with quiz files: import question banks.")


def _check_tag(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not TAG.match(value):
        raise click.BadParameter("use lower-case words and hyphens, such as "
                                 "'indicators/documents'")
    return value


@quizzes_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="Source format (default: guessed from the file name and contents).")
@click.option("--out", "destination", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the question bank here (default: standard output).")
@click.option("--tag", callback=_check_tag,
              help="Tag every question with this (default: the Moodle category, or "
                   "imported/<file name>).")
def import_command(file: Path, fmt: str | None, destination: Path | None, tag: str | None):
    """Convert a Moodle GIFT or Aiken FILE into question-bank YAML.

    Lines that cannot be converted are reported as FILE:LINE: reason; the converted
    questions carry placeholder explanations and sources to fill in.
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not UTF-8 text: save it as UTF-8.") from exc
    path = str(file)
    fmt = fmt or detect_format(text, path)
    if fmt is None:
        raise click.ClickException(f"Cannot tell the format of {file}: pass --format gift "
                                   "or --format aiken.")
    result = import_file(text, path, fmt, tag)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    converted = len(result.questions)
    failed = len({(p.path, p.line) for p in result.errors})
    summary = f"Converted {converted} questions; {failed} lines could not be converted."
    if converted and destination is not None:
        destination.write_text(result.to_yaml(), encoding="utf-8")
        click.echo(f"{summary} Wrote {destination}.")
    else:
        if converted:
            click.echo(result.to_yaml(), nl=False)
        click.echo(summary, err=True)
    if not converted:
        raise SystemExit(1)
