"""Two app servers share login throttles and rate limits through Redis; without Redis the
login throttle is shared through the database and rate limits stay per process."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from learning import create_app
from learning.audit.models import AuditEntry
from learning.extensions import db
from tests.pgserver import free_port

CODE = "0123456789abcdef0123456789abcdef"


def two_servers(app_config: dict, monkeypatch, redis_url: str | None) -> tuple:
    """Two separate app instances on one database, configured by the environment alone."""
    if redis_url:
        monkeypatch.setenv("REDIS_URL", redis_url)
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)
    config = {**app_config, "LOGIN_FAILURES_PER_ACCOUNT": 3, "LOGIN_FAILURES_PER_ADDRESS": 100,
              "VERIFY_RATE_LIMIT": "3 per minute"}
    servers = create_app(config).test_client(), create_app(config).test_client()
    for server in servers:  # each one reports the Redis it shares as ready
        assert server.get("/readyz").get_json()["redis"] == ("ok" if redis_url
                                                             else "not configured")
    return servers


def sign_in(client, password: str = "wrong", email: str = "officer1@example.test") -> int:
    return client.post("/login", data={"email": email, "password": password}).status_code


def test_redis_shares_the_login_throttle_between_servers(app, app_config, make_user,
                                                         fresh_redis, monkeypatch):
    make_user("officer")  # officer1@example.test
    first, second = two_servers(app_config, monkeypatch, fresh_redis)
    assert [sign_in(first), sign_in(second), sign_in(first)] == [401, 401, 401]
    # Each server saw fewer than three failures; together they reached the limit.
    assert sign_in(second, "correct-horse-battery") == 429
    assert sign_in(first, "correct-horse-battery") == 429
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM login_throttle")) == 0


def test_redis_shares_rate_limits_between_servers(app, app_config, fresh_redis, monkeypatch):
    first, second = two_servers(app_config, monkeypatch, fresh_redis)
    statuses = [client.get(f"/verify/{CODE}").status_code
                for client in (first, second, first, second)]
    assert statuses == [404, 404, 404, 429]


def test_without_redis_the_database_shares_the_throttle(app, app_config, make_user,
                                                        monkeypatch):
    make_user("officer")
    first, second = two_servers(app_config, monkeypatch, None)
    assert first.application.config["LOGIN_THROTTLE_STORAGE"] == "database"
    assert [sign_in(first), sign_in(second), sign_in(first)] == [401, 401, 401]
    assert sign_in(second, "correct-horse-battery") == 429
    # Rate limits without Redis count in each process's memory: one machine, one count.
    statuses = [client.get(f"/verify/{CODE}").status_code for client in (first,) * 4]
    assert statuses == [404, 404, 404, 429]
    assert second.get(f"/verify/{CODE}").status_code == 404


@pytest.fixture
def redis_down(app_config, monkeypatch):
    """An app whose Redis does not answer (nothing listens on the port)."""
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    return create_app(app_config)


def test_a_redis_outage_fails_closed_with_a_clear_503(app, redis_down, make_user):
    make_user("officer")
    client = redis_down.test_client()
    response = client.post("/login", data={"email": "officer1@example.test",
                                           "password": "correct-horse-battery"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Temporarily unavailable" in response.get_data(as_text=True)
    assert client.get("/training/").status_code == 302  # not signed in: nothing was done
    assert client.get(f"/verify/{CODE}").status_code == 503
    assert client.get("/login").status_code == 200  # pages that count nothing still work
    assert client.get("/readyz").get_json()["redis"] == "unreachable"
    with redis_down.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
            AuditEntry.action == "auth.login")) == 0
