"""``flask languages check``: the shipped catalogues are complete, consistent and compile."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from learning.config import PROJECT_ROOT
from learning.languages.catalogues import catalogue_problems, extract_messages, shipped_catalogues

languages_cli = AppGroup("languages", help="Check the interface's translation catalogues.")


@languages_cli.command("check")
def check_command():
    """Report every untranslated, fuzzy or inconsistent message; exit 1 if any."""
    expected = extract_messages(Path(PROJECT_ROOT))
    catalogues = shipped_catalogues(Path(current_app.config["TRANSLATIONS_DIR"]))
    problems = [p for po in catalogues for p in catalogue_problems(po, expected)]
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"{len(catalogues)} catalogues checked against {len(expected)} messages: "
               f"{len(problems)} problems.")
    if problems:
        raise SystemExit(1)
