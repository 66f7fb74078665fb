"""Readiness, proxy trust, request ids and JSON request logs (issue 13)."""

from __future__ import annotations

import io
import json
import logging

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from learning import create_app
from learning.audit.models import AuditEntry
from learning.config import ConfigurationError
from learning.extensions import db
from learning.ops.dbconnections import server_has_hung_up
from learning.ops.readiness import migration_heads
from tests.conftest import StatementCounter
from tests.pgserver import free_port

SPOOFED = "6.6.6.6"
CLIENT = "203.0.113.9"
PROXY = "10.0.0.1"


@pytest.fixture
def migrated_url(backend, tmp_path, request) -> str:
    """A fresh database of the backend, for an app that runs the real migrations."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    return request.getfixturevalue("postgres").create_database(f"ready_{id(request)}")


@pytest.fixture
def migrated_app(app_config, migrated_url):
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": migrated_url})
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_readyz_is_ready_when_migrations_are_current(migrated_app, count_statements):
    client = migrated_app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "redis": "not configured",
                                   "migrations": "ok"}
    with migrated_app.app_context():
        counter = count_statements()
    with counter:
        assert client.get("/readyz").status_code == 200
    assert counter.count <= 2  # SELECT 1 and the revision: the head is read once per process
    assert migration_heads.cache_info().hits >= 1


def test_readyz_refuses_traffic_while_migrations_are_pending_or_unknown(migrated_app):
    client = migrated_app.test_client()
    with migrated_app.app_context():
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0011'"))
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "pending"
    with migrated_app.app_context():
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = 'f00d'"))
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "ok", "redis": "not configured",
                                   "migrations": "unknown revision"}


def test_readyz_without_a_revision_is_not_ready(client):
    """A database made without Alembic (no alembic_version) is not known to be current."""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "pending"
    assert client.get("/healthz").status_code == 200  # alive all the same


def test_readyz_names_the_failing_part_without_leaking_addresses(tmp_path):
    port = free_port()
    app = create_app({"TESTING": True, "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI":
                          f"postgresql+psycopg://waymark:db-sekrit@127.0.0.1:{port}/x",
                      "REDIS_URL": f"redis://:redis-sekrit@127.0.0.1:{port}/0"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"database": "unreachable", "redis": "unreachable",
                                   "migrations": "unknown"}
    body = response.get_data(as_text=True)
    assert "sekrit" not in body and str(port) not in body and "127.0.0.1" not in body


def test_readyz_checks_redis_when_configured(migrated_app, fresh_redis):
    migrated_app.config["REDIS_URL"] = fresh_redis
    response = migrated_app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["redis"] == "ok"


def _proxied_app(app_config: dict, hops: int):
    return create_app({**app_config, "PROXIES": hops, "LOGIN_FAILURES_PER_ADDRESS": 2,
                       "LOGIN_FAILURES_PER_ACCOUNT": 100})


def _failed_sign_in(app, forwarded_for: str, email: str = "nobody@example.test"):
    return app.test_client().post(
        "/login", data={"email": email, "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for}, environ_base={"REMOTE_ADDR": PROXY})


def _login_addresses(app) -> list[str | None]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEntry.address).where(
            AuditEntry.action == "auth.login").order_by(AuditEntry.id)))


@pytest.mark.parametrize("hops,expected", [(1, CLIENT), (0, PROXY), (2, SPOOFED)])
def test_proxy_hops_decide_the_audited_address(app, app_config, hops, expected):
    """One trusted proxy: the address it appended; none: the TCP peer; two: the one
    before (so setting too many trusts a hop the client wrote)."""
    proxied = _proxied_app(app_config, hops)
    assert _failed_sign_in(proxied, f"{SPOOFED}, {CLIENT}").status_code == 401
    assert _login_addresses(proxied) == [expected]


def test_one_proxy_throttles_the_real_client_not_a_spoofed_hop(app, app_config):
    proxied = _proxied_app(app_config, 1)
    for n, spoof in enumerate(("1.1.1.1", "2.2.2.2")):
        response = _failed_sign_in(proxied, f"{spoof}, {CLIENT}", f"a{n}@example.test")
        assert response.status_code == 401
    # A fresh spoofed first hop does not make a fresh client: the address is throttled.
    assert _failed_sign_in(proxied, f"3.3.3.3, {CLIENT}", "b@example.test").status_code == 429
    # Another client behind the same proxy is not.
    assert _failed_sign_in(proxied, f"{SPOOFED}, 203.0.113.10", "c@example.test"
                           ).status_code == 401


def test_no_proxy_trusted_by_default(app):
    assert app.config["PROXIES"] == 0
    response = app.test_client().post(
        "/login", data={"email": "x@example.test", "password": "wrong"},
        headers={"X-Forwarded-For": CLIENT}, environ_base={"REMOTE_ADDR": PROXY})
    assert response.status_code == 401
    assert _login_addresses(app) == [PROXY]


@pytest.mark.parametrize("value", ["one", "-1", "1.5", "99", "١"])
def test_a_bad_proxy_count_refuses_to_start(tmp_path, value):
    with pytest.raises(ConfigurationError, match="WAYMARK_PROXIES"):
        create_app({"TESTING": True, "SECRET_KEY": "k", "PROXIES": value,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})


def test_request_id_is_kept_when_well_formed_and_made_otherwise(client):
    given = "edge-7f3a9c21-0001"
    assert client.get("/healthz", headers={"X-Request-Id": given}).headers[
        "X-Request-Id"] == given
    for bad in ("short", "a" * 65, "bad id with spaces", "x\u00e9" * 8, "<script>alert1"):
        made = client.get("/healthz", headers={"X-Request-Id": bad}).headers["X-Request-Id"]
        assert made != bad and len(made) == 32 and int(made, 16) >= 0
    first, second = (client.get("/healthz").headers["X-Request-Id"] for _ in range(2))
    assert first != second


def test_error_pages_print_the_request_id_as_reference(client):
    response = client.get("/no/such/page", headers={"X-Request-Id": "ticket-12345678"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "ticket-12345678"
    assert "Reference: ticket-12345678" in response.get_data(as_text=True)


@pytest.fixture
def json_log(app, app_config):
    """An app logging JSON (made after the plain one), and the text it logs."""
    app = create_app({**app_config, "LOG_FORMAT": "json"})
    stream = io.StringIO()
    handler = next(h for h in logging.getLogger("learning").handlers
                   if getattr(h, "waymark_json", False))
    handler.setStream(stream)
    yield app, stream
    create_app(app_config)  # back to plain logs for the tests that follow


def test_json_log_has_one_redacted_line_per_request(json_log, make_user, login_as):
    app, stream = json_log
    client = app.test_client()
    user = make_user("officer")
    client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    stream.truncate(0), stream.seek(0)
    response = client.get("/verify/0123456789abcdef0123456789abcdef?p=WM1.secret-payload",
                          headers={"X-Request-Id": "trace-0000abcd"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "trace-0000abcd" == response.headers["X-Request-Id"]
    assert line["method"] == "GET" and line["path"] == "/verify/[redacted]"
    assert line["status"] == response.status_code and line["level"] == "INFO"
    assert line["user_id"] == user.id and isinstance(line["duration_ms"], float)
    assert line["time"].endswith("Z")
    assert "secret-payload" not in stream.getvalue()
    assert "0123456789abcdef" not in stream.getvalue()


def test_json_log_lines_of_the_app_carry_the_request_id_and_stay_redacted(json_log):
    app, stream = json_log

    @app.get("/test-log")
    def test_log():
        app.logger.warning("token=abc123 reached\nforged line")
        return "ok"

    app.test_client().get("/test-log", headers={"X-Request-Id": "trace-0000beef"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    warning = next(line for line in lines if line["level"] == "WARNING")
    assert warning["request_id"] == "trace-0000beef"
    assert "abc123" not in warning["message"] and "\n" not in warning["message"]
    assert len(lines) == 2  # the warning and the request's own line


def _pooled_backend_pid(app) -> int:
    with app.app_context():
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()  # back to the pool
    return pid


def test_a_pooled_connection_the_server_ended_is_replaced_without_an_error(postgres):
    """No SELECT 1 at checkout (pool_pre_ping), yet a connection PostgreSQL ended while it
    sat in the pool is never handed to a request: the page after it still answers."""
    import time

    url = postgres.create_database("pooled_liveness")
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url})
    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    client = app.test_client()
    first = _pooled_backend_pid(app)
    assert _pooled_backend_pid(app) == first  # the pool reuses the one live connection
    with app.app_context():
        raw = db.engine.raw_connection()  # the pooled connection, to watch it
        assert not server_has_hung_up(raw.dbapi_connection)
        raw.close()
    killer = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with killer.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                                  {"pid": first}).scalar_one()
    killer.dispose()
    time.sleep(0.2)  # the server's farewell reaches the socket
    assert client.get("/healthz").status_code == 200
    assert _pooled_backend_pid(app) != first
    with app.app_context():
        db.engine.dispose()


def test_the_log_line_of_a_request_that_commits_reads_nothing_more(
        json_log, make_user, synced):
    """The user's attributes expire at the commit; the log line takes the id from the
    object's identity instead of reading the user's row a second time."""
    app, stream = json_log
    client = app.test_client()
    user = make_user("officer")
    client.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    client.get("/courses/field-basics/first-steps/")  # the form's CSRF token, the page built
    stream.truncate(0), stream.seek(0)
    with app.app_context():
        engine = db.engine
    with StatementCounter(engine) as counter:
        response = client.post("/courses/field-basics/first-steps/")
    assert response.status_code == 302
    user_reads = [s for s in counter.statements
                  if s.lstrip().upper().startswith("SELECT") and "FROM user_account" in s]
    assert len(user_reads) == 1, user_reads  # the signed-in user, once
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["user_id"] == user.id and line["status"] == 302
