"""``flask users ...`` and ``flask demo``."""

from datetime import date, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from learning.accounts.mfa import reset_mfa
from learning.accounts.models import ROLES, Agency, Unit
from learning.accounts.passwords import set_password_by_operator
from learning.accounts.service import (
    AccountError,
    create_user,
    find_user_by_email,
    get_or_create_agency,
    get_or_create_unit,
)
from learning.agency.models import Assignment
from learning.agency.service import create_assignment, record_audit
from learning.catalogue.models import Course
from learning.catalogue.service import published_courses
from learning.extensions import db
from learning.timeutil import utcnow

users_cli = AppGroup("users", help="Create accounts and reset passwords.")

DEMO_PASSWORD = "waymark-demo"
DEMO_AGENCY = ("Demo Border Agency", "demo-border-agency")
DEMO_UNITS = (("Northern Airport Post", "post"), ("Harbour Station", "station"),
              ("Eastern Land Crossing", "post"))
DEMO_USERS = (
    ("officer@example.org", "Demo Officer", "officer", "Northern Airport Post"),
    ("trainer@example.org", "Demo Trainer", "trainer", None),
    ("manager@example.org", "Demo Manager", "manager", None),
    ("admin@example.org", "Demo Admin", "admin", None),
)
# Officers without a password yet, so the demo manager can invite them (staff page).
DEMO_NEWCOMERS = (
    ("new.officer1@example.org", "Amina Diallo", "Northern Airport Post"),
    ("new.officer2@example.org", "Jonas Berg", "Northern Airport Post"),
)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True, help="Name as printed on certificates.")
@click.option("--role", type=click.Choice(ROLES), default="officer", show_default=True)
@click.option("--agency", "agency_slug", help="Agency slug (required for officers and managers).")
@click.option("--unit", "unit_name", help="Unit name within the agency.")
@click.password_option(help="Prompted for when not given.")
def create_user_command(email, display_name, role, agency_slug, unit_name, password):
    """Create a user account."""
    agency = unit = None
    if agency_slug:
        agency = db.session.scalar(sa.select(Agency).where(Agency.slug == agency_slug))
        if agency is None:
            raise click.ClickException(f"No agency with the slug '{agency_slug}'.")
    if unit_name:
        if agency is None:
            raise click.ClickException("--unit needs --agency.")
        unit = db.session.scalar(sa.select(Unit).where(Unit.agency_id == agency.id,
                                                       Unit.name == unit_name))
        if unit is None:
            raise click.ClickException(f"Agency '{agency_slug}' has no unit '{unit_name}'.")
    try:
        user = create_user(email, display_name, password, role, agency, unit)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@users_cli.command("set-password")
@click.argument("email")
@click.password_option()
def set_password_command(email, password):
    """Set a new password for an existing user: their sessions end and they are told by e-mail."""
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the email '{email}'.")
    try:
        set_password_by_operator(user, password)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Password updated for {user.email}; every session of the account has ended.")


@users_cli.command("reset-mfa")
@click.argument("email")
def reset_mfa_command(email):
    """Remove a user's second factor and end all their sessions (for a lost phone)."""
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the email '{email}'.")
    removed = reset_mfa(user)
    record_audit(None, "mfa.reset", user.email, {"by": "command line"},
                 agency_id=user.agency_id)
    db.session.commit()
    click.echo(f"Second factor {'removed' if removed else 'was not set up'} for {user.email}; "
               "every session of the account has ended.")


def ensure_demo_accounts() -> list[str]:
    """Create the demo agency, its units and the four demo accounts if missing."""
    agency = get_or_create_agency(*DEMO_AGENCY)
    units = {name: get_or_create_unit(agency, name, kind) for name, kind in DEMO_UNITS}
    created = []
    for email, name, role, unit_name in DEMO_USERS:
        if find_user_by_email(email) is None:
            in_agency = role in ("officer", "manager")
            create_user(email, name, DEMO_PASSWORD, role, agency if in_agency else None,
                        units.get(unit_name) if unit_name else None)
            created.append(email)
    for email, name, unit_name in DEMO_NEWCOMERS:
        if find_user_by_email(email) is None:
            create_user(email, name, None, "officer", agency, units.get(unit_name))
            created.append(email)
    db.session.commit()
    return created


def ensure_demo_assignment(today: date) -> str | None:
    """Assign the first published course to the demo officer's post, due in a month.

    Only when the demo agency has no assignment yet, so My training shows an assigned
    course with a due date on a first visit. Returns the course title, if assigned.
    """
    manager = find_user_by_email("manager@example.org")
    courses = published_courses()
    if manager is None or not courses or db.session.scalar(
            sa.select(Assignment.id).where(Assignment.agency_id == manager.agency_id).limit(1)):
        return None
    unit = db.session.scalar(sa.select(Unit).where(Unit.agency_id == manager.agency_id,
                                                   Unit.name == DEMO_USERS[0][3]))
    course, version = courses[0]
    create_assignment(manager, course.id, today + timedelta(days=30), "none", None,
                      [unit.id] if unit else [], [] if unit else [DEMO_USERS[0][0]])
    db.session.commit()
    return version.title


def ensure_demo_authoring(course_slug: str = "using-waymark") -> bool:
    """Make the demo trainer an owner of the platform's own course, so "Edit" works on a
    first visit (other courses need an admin to grant it, as in production)."""
    from learning.author.models import CourseMember
    from learning.author.ownership import grant

    trainer = find_user_by_email(DEMO_USERS[1][0])
    if trainer is None or db.session.scalar(
            sa.select(Course.id).where(Course.slug == course_slug)) is None:
        return False
    if db.session.scalar(sa.select(CourseMember.id).where(
            CourseMember.course_slug == course_slug, CourseMember.user_id == trainer.id)):
        return False
    grant(course_slug, trainer.email, "owner", None)
    db.session.commit()
    return True


@click.command("demo")
def demo_command():
    """Create the demo agency and accounts (never run in production).

    The accounts' password is printed here and in the README, so an admin account made
    by this command in production would be anyone's: it runs only in debug mode (``make
    run`` sets FLASK_DEBUG=1) or under the tests.
    """
    if not (current_app.debug or current_app.testing):
        raise click.ClickException(
            "flask demo creates accounts whose password is public; it runs only in debug "
            "mode (FLASK_DEBUG=1, as make run sets it), never in production.")
    created = ensure_demo_accounts()
    assigned = ensure_demo_assignment(utcnow().date())
    if assigned:
        click.echo(f"Assigned '{assigned}' to {DEMO_USERS[0][3]}, due in 30 days.")
    if ensure_demo_authoring():
        click.echo(f"{DEMO_USERS[1][0]} owns the course 'using-waymark' (Authoring > Edit).")
    click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
    for email, _name, role, _unit in DEMO_USERS:
        mark = " (new)" if email in created else ""
        click.echo(f"  {role:<8} {email}{mark}")
