"""Fixtures: every database test runs on SQLite and on a throwaway PostgreSQL server."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from werkzeug.serving import make_server

from learning import create_app
from learning.accounts import service as accounts_service
from learning.accounts.models import Agency, Unit, User
from learning.accounts.service import get_or_create_agency, get_or_create_unit, hash_password
from learning.catalogue.service import sync_catalogue
from learning.extensions import babel, db
from tests.pgserver import ThrowawayPostgres
from tests.redisserver import ThrowawayRedis

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_CONTENT = FIXTURES / "content"
PASSWORD = "correct-horse-battery"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["all", "sqlite", "postgresql"], default="all",
                     help="Database backends to run database tests on (default: both).")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        option = metafunc.config.getoption("--db")
        backends = ["sqlite", "postgresql"] if option == "all" else [option]
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres: ThrowawayPostgres) -> str:
    return postgres.create_database("waymark_test")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[ThrowawayRedis]:
    """A redis-server for this session, started only when a test asks for it."""
    server = ThrowawayRedis().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: ThrowawayRedis) -> str:
    """The throwaway Redis server's URL (shared by the session: see ``fresh_redis``)."""
    return redis_server.url


@pytest.fixture
def fresh_redis(redis_server: ThrowawayRedis, redis_url: str) -> str:
    """The Redis URL, with every key from earlier tests forgotten."""
    redis_server.flush()
    return redis_url


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Argon2 at its cheapest parameters: a real hash and verify, but 130 ms less per
    sign-in (most tests sign in through the form). Servers in subprocesses keep the real
    cost, and tests/test_accounts.py checks the parameters the app itself uses."""
    with pytest.MonkeyPatch.context() as patch:
        cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
        patch.setattr(accounts_service, "_hasher", cheap)
        patch.setattr(accounts_service, "_DUMMY_HASH", cheap.hash("waymark-timing-equaliser"))
        yield


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'waymark.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def content_dirs() -> tuple[Path, Path]:
    """The courses and quizzes folders the app reads (override to use other files)."""
    return FIXTURE_CONTENT / "courses", FIXTURE_CONTENT / "quizzes"


@pytest.fixture
def app_config(database_url: str, content_dirs: tuple[Path, Path], tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "COURSES_DIR": str(content_dirs[0]),
        "QUIZZES_DIR": str(content_dirs[1]),
        "REQUIRE_MFA": False,  # tests/test_mfa.py turns it on
    }


def _truncate_all() -> None:
    """Empty every table between tests. The audit log refuses TRUNCATE, so this session
    runs as a replica, which skips triggers (only a superuser may; see "Audit trail")."""
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def app(app_config: dict, backend: str):
    app = create_app(app_config)
    # Flask-Babel keeps one message domain (and its catalogue cache) per process; each test
    # app may read other catalogues (tests/test_languages.py writes small ones).
    babel.__dict__.pop("domain_instance", None)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if backend == "postgresql":
            _truncate_all()
        db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def synced(app_ctx, content_dirs):
    """The fixture catalogue, published."""
    report = sync_catalogue(*content_dirs)
    assert report.ok, report.problems
    return report


@cache
def _password_hash(password: str) -> str:
    return hash_password(password)


@pytest.fixture
def agency(app_ctx) -> Agency:
    agency = get_or_create_agency("Agency A", "agency-a")
    db.session.commit()
    return agency


@pytest.fixture
def make_user(app_ctx) -> Callable[..., User]:
    """Factory: ``make_user(role="officer", agency=..., unit=...)`` with sensible defaults."""
    counter = iter(range(1, 10_000))

    def make(role: str = "officer", *, agency: Agency | None = None, unit: Unit | None = None,
             email: str | None = None, name: str | None = None, active: bool = True,
             password: str = PASSWORD) -> User:
        n = next(counter)
        if agency is None and role in ("officer", "manager"):
            agency = get_or_create_agency("Agency A", "agency-a")
        user = User(email=email or f"{role}{n}@example.test", display_name=name or f"{role} {n}",
                    role=role, active=active, password_hash=_password_hash(password),
                    agency_id=agency.id if agency else None, unit_id=unit.id if unit else None)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_unit(app_ctx) -> Callable[..., Unit]:
    def make(agency: Agency, name: str) -> Unit:
        unit = get_or_create_unit(agency, name)
        db.session.commit()
        return unit

    return make


@pytest.fixture
def isolated_requests(app):
    """Forget the signed-in user between requests, as separate app contexts would.

    While a test holds an app context, every test-client request reuses it, so
    Flask-Login's cached user (and Flask-WTF's token) in ``g`` outlive their request and
    hide whether a session still loads. Tests about sessions ask for this fixture.
    """
    from flask import g

    def forget() -> None:
        for name in ("_login_user", "csrf_token", "_flask_babel", "_waymark_translations",
                     "request_id"):
            g.pop(name, None)

    app.before_request_funcs.setdefault(None, []).insert(0, forget)


@pytest.fixture
def login_as(client) -> Callable[[User], None]:
    """Sign a user in through the real login form."""

    def login(user: User, password: str = PASSWORD) -> None:
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)

    return login


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class StatementCounter:
    """Counts SQL statements sent to the database while active, with the isolation level
    each was sent at (None: the connection's default; "AUTOCOMMIT": no transaction)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []
        self.isolation_levels: list[str | None] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)
        self.isolation_levels.append(conn.get_execution_options().get("isolation_level"))

    def __enter__(self) -> StatementCounter:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_statements(app):
    def make() -> StatementCounter:
        with app.app_context():
            return StatementCounter(db.engine)

    return make


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app served over HTTP on a free local port, in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
