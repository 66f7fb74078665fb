"""Waymark: training and certification on human trafficking for border staff."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

from learning import ops, ratelimit
from learning.config import PROJECT_ROOT, configure
from learning.core import errors, headers, inputs, redact, session_cookie
from learning.core.flask_app import WaymarkFlask
from learning.core.inputs import ascii_int
from learning.extensions import babel, csrf, db, login_manager, migrate
from learning.ops import dbconnections


def _select_locale() -> str | None:
    """See learning.languages.service: the user's, the agency's, the switch's, the browser's."""
    from learning.languages.service import COOKIE, choose_for_request, shipped

    if not has_request_context():
        return None
    user = current_user._get_current_object()  # read several times: one proxy lookup
    user = user if user is not None and user.is_authenticated else None
    agency = user.agency if user is not None else None
    cookie = request.cookies.get(COOKIE)  # longer than any tag: refused all the same
    return choose_for_request(user.language if user else None,
                              agency.language if agency else None,
                              cookie[:64] if cookie else None,
                              request.headers.get("Accept-Language", "")[:512], shipped())


def _choose_locale_now() -> None:
    """Fix the request's language while the signed-in user is freshly loaded.

    Chosen later, after a view's commit has expired the user's attributes (a flash
    message after marking a lesson complete), it would read the user's row again.
    """
    if request.endpoint != "static":
        get_locale()


def _sqlite_pragmas(connection, _record) -> None:
    """WAL lets readers work while one request writes, and a commit need not wait for
    the disk twice; the busy timeout queues concurrent writers instead of failing."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints and commands."""
    app = WaymarkFlask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_relative_config=True,
        instance_path=os.environ.get("WAYMARK_INSTANCE_PATH") or None,
    )
    configure(app, test_config)
    inputs.init_app(app)  # before any other request hook and before the routes are added
    session_cookie.init_app(app)

    db.init_app(app)
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
        else:
            dbconnections.watch(db.engine)
    migrate.init_app(app, db, directory=str(Path(PROJECT_ROOT) / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)
    ratelimit.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    from learning import models  # noqa: F401  (every table known to Alembic)
    from learning.accounts.models import User
    from learning.accounts.signed_in import signed_in_user
    from learning.assessments import taker
    from learning.catalogue.fast_path import READER_ROW
    from learning.progress.service import signed_in_reader

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        """The signed-in user, unless their sessions were ended since this one began."""
        user_id, _, generation = (ascii_int(part) for part in session_id.partition(":"))
        if user_id is None or generation is None:
            return None
        # One Core query; the agency comes with it (its language and time zone are on
        # most pages). A lesson page reads the reader's course state in the same one, a
        # save or submit the attempt.
        if not has_request_context():
            return signed_in_user(user_id, generation)
        if request.endpoint == "catalogue.lesson" and request.view_args:
            slug = request.view_args["course_slug"]
            # The fast path may have read it and left the page to the view (not cached yet).
            read = request.environ.pop(READER_ROW, None)
            row = read[2] if read and read[:2] == (user_id, slug) else None
            user, state = signed_in_reader(user_id, generation, slug, row)
            g.reader_state = (user_id, slug, state)
            return user
        if request.endpoint in taker.ENDPOINTS and request.view_args:
            return taker.signed_in_taker(user_id, generation, request.view_args)
        return signed_in_user(user_id, generation)

    from learning.accounts import sessions
    from learning.accounts.cli import demo_command, users_cli
    from learning.accounts.mfa_views import bp as mfa_bp
    from learning.accounts.views import bp as accounts_bp
    from learning.admin.views import bp as admin_bp
    from learning.agency.compliance_cli import compliance_cli
    from learning.agency.notify_cli import notify_cli
    from learning.agency.reminders_views import bp as agency_exports_bp
    from learning.agency.staff_views import bp as staff_bp
    from learning.agency.views import bp as agency_bp
    from learning.api.views import bp as api_bp
    from learning.api.views import tokens_bp as api_tokens_bp
    from learning.assessments.views import bp as assessments_bp
    from learning.audit.cli import audit_cli
    from learning.author.version_views import bp as versions_bp
    from learning.author.views import bp as author_bp
    from learning.catalogue.cli import content_cli
    from learning.catalogue.views import bp as catalogue_bp
    from learning.certificates.cli import certificates_cli
    from learning.certificates.views import bp as certificates_bp
    from learning.core.views import bp as core_bp
    from learning.jobs.cli import jobs_cli
    from learning.jobs.views import bp as jobs_bp
    from learning.languages.cli import languages_cli
    from learning.languages.views import bp as languages_bp
    from learning.ops.cli import backup_command, restore_command
    from learning.privacy.cli import privacy_cli
    from learning.privacy.views import bp as privacy_bp
    from learning.quizimport_cli import quizzes_cli
    from learning.training.views import bp as training_bp
    from learning.transcript.views import bp as transcript_bp

    sessions.init_app(app)
    app.before_request(_choose_locale_now)  # after the sign-in hooks: the user is known
    for blueprint in (core_bp, accounts_bp, mfa_bp, training_bp, catalogue_bp, assessments_bp,
                      certificates_bp, transcript_bp, author_bp, versions_bp, admin_bp,
                      agency_bp, staff_bp, agency_exports_bp, api_bp, api_tokens_bp, privacy_bp,
                      jobs_bp, languages_bp):
        app.register_blueprint(blueprint)
    for command in (content_cli, users_cli, demo_command, quizzes_cli, certificates_cli,
                    notify_cli, privacy_cli, audit_cli, backup_command, restore_command,
                    jobs_cli, languages_cli, compliance_cli):
        app.cli.add_command(command)

    from learning.certificates.service import connect_signals

    connect_signals()

    from learning.agency.compliance_events import connect as keep_compliance_current

    keep_compliance_current()

    from learning.audit.views import register as register_audit_hooks

    register_audit_hooks(app)

    from learning.templating import register_template_helpers

    register_template_helpers(app)
    headers.init_app(app)
    errors.init_app(app)
    redact.init_app(app)
    from learning.catalogue import fast_path

    fast_path.init_app(app)  # inside ProxyFix (ops): it sees the client's address
    ops.init_app(app)
    return app
