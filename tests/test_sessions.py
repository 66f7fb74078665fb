"""Remember-me tokens, cookies, session rotation at sign-in, and sign-in throttling."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from learning import create_app
from learning.accounts.auth_models import LoginThrottle, RememberToken
from learning.accounts.models import User
from learning.accounts.remember import user_from_remember_token
from learning.accounts.service import end_all_sessions
from learning.agency.models import AuditEntry
from learning.extensions import db
from learning.timeutil import utcnow
from tests.conftest import PASSWORD, _password_hash, csrf_token_from

pytestmark = pytest.mark.usefixtures("isolated_requests")


def sign_in(client, user, remember=True, **extra):
    data = {"email": user.email, "password": PASSWORD, **extra}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def cookie_headers(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def new_browser_session(client) -> None:
    """The browser was closed: its session cookie is gone, persistent cookies stay."""
    client.delete_cookie("session")


# Remember-me -----------------------------------------------------------------------------

def test_remember_token_is_stored_hashed_and_signs_in_a_new_browser_session(
        client, make_user):
    user = make_user("officer")
    response = sign_in(client, user)
    headers = cookie_headers(response)
    assert "remember_token" not in headers  # Flask-Login's own cookie is never set
    cookie = headers["remember"]
    assert "HttpOnly" in cookie and "Path=/" in cookie and "Max-Age=2592000" in cookie
    value = client.get_cookie("remember").value
    token_id, secret = value.split(":")
    row = db.session.get(RememberToken, int(token_id))
    assert row.user_id == user.id and row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in row.token_hash and len(secret) >= 40
    assert row.expires_at - row.created_at == timedelta(days=30)

    new_browser_session(client)
    assert client.get("/courses/").status_code == 200
    # A fresh session cookie now carries the sign-in; the token was not spent.
    assert client.get_cookie("session") is not None
    assert db.session.scalar(sa.select(sa.func.count(RememberToken.id))) == 1


def test_without_remember_me_there_is_no_token(client, make_user):
    sign_in(client, make_user("officer"), remember=False)
    assert client.get_cookie("remember") is None
    assert db.session.scalar(sa.select(sa.func.count(RememberToken.id))) == 0
    new_browser_session(client)
    assert client.get("/courses/").status_code == 302


def test_each_sign_in_gets_its_own_token(app, make_user):
    user = make_user("officer")
    values = []
    for _ in range(2):
        client = app.test_client()
        sign_in(client, user)
        values.append(client.get_cookie("remember").value)
    assert values[0] != values[1]
    assert db.session.scalar(sa.select(sa.func.count(RememberToken.id))) == 2


def test_remember_token_expires_after_30_days(client, make_user):
    user = make_user("officer")
    sign_in(client, user)
    value = client.get_cookie("remember").value
    row = db.session.scalar(sa.select(RememberToken))
    assert user_from_remember_token(value, now=row.created_at + timedelta(days=29)).id == user.id
    assert user_from_remember_token(value, now=row.created_at + timedelta(days=30)) is None
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(RememberToken.id))) == 0  # deleted
    new_browser_session(client)
    response = client.get("/courses/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_expired_token_is_refused_through_the_browser(client, make_user):
    sign_in(client, make_user("officer"))
    db.session.execute(sa.update(RememberToken).values(
        expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    new_browser_session(client)
    response = client.get("/courses/")
    assert response.status_code == 302
    assert "remember=;" in cookie_headers(response)["remember"]  # the browser forgets it
    assert client.get_cookie("remember") is None


def test_ending_all_sessions_revokes_remember_tokens(client, make_user):
    user = make_user("officer")
    sign_in(client, user)
    end_all_sessions(db.session.get(User, user.id))
    db.session.commit()
    assert client.get("/courses/").status_code == 302  # the session has ended
    new_browser_session(client)
    assert client.get("/courses/").status_code == 302  # and so has the remember-me cookie


def test_sign_out_deletes_the_token(app, client, make_user):
    sign_in(client, make_user("officer"))
    stolen = client.get_cookie("remember").value
    response = client.post("/logout")
    assert "remember=;" in cookie_headers(response)["remember"]
    assert db.session.scalar(sa.select(sa.func.count(RememberToken.id))) == 0
    other = app.test_client()
    other.set_cookie("remember", stolen)
    assert other.get("/courses/").status_code == 302


@pytest.mark.parametrize("value", ["1:" + "x" * 43, "99999999999999999999:abc", "x:y", "",
                                   "1:" + "é" * 30, "²:" + "a" * 43])
def test_forged_remember_cookies_are_refused(app, client, make_user, value):
    sign_in(client, make_user("officer"))
    other = app.test_client()
    other.set_cookie("remember", value)
    assert other.get("/courses/").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(RememberToken.id))) == 1  # nothing deleted


def test_a_remembered_session_costs_no_extra_sql(client, make_user, count_statements):
    sign_in(client, make_user("officer"))
    new_browser_session(client)
    client.get("/courses/")  # signs in from the cookie
    with count_statements() as counter:
        assert client.get("/courses/").status_code == 200
    assert not any("remember_token" in s for s in counter.statements)


def test_secure_cookies_use_host_prefixed_names(app, app_config, monkeypatch):
    monkeypatch.setenv("WAYMARK_SECURE_COOKIES", "1")
    secure_app = create_app(app_config)
    with secure_app.app_context():
        db.session.add(User(email="s@example.test", display_name="S", role="trainer",
                            password_hash=_password_hash(PASSWORD)))
        db.session.commit()
        response = secure_app.test_client().post("/login", data={
            "email": "s@example.test", "password": PASSWORD, "remember": "y"},
            base_url="https://localhost")
        headers = cookie_headers(response)
        for name in ("__Host-session", "__Host-remember"):
            assert "Secure" in headers[name] and "Path=/" in headers[name]
            assert "Domain" not in headers[name] and "HttpOnly" in headers[name]
        assert "session" not in headers and "remember" not in headers
        db.session.remove()
        db.engine.dispose()


# Session rotation --------------------------------------------------------------------

def test_sign_in_starts_a_fresh_session_and_csrf_token(app, client, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("officer")
    before = csrf_token_from(client.get("/login").get_data(as_text=True))
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        raw_before = session["csrf_token"]
    old_cookie = client.get_cookie("session").value
    sign_in(client, user, remember=False, csrf_token=before)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != raw_before
    # The token from before sign-in no longer works...
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400
    assert client.get("/courses/").status_code == 200
    # ...a token from a page after sign-in does.
    after = csrf_token_from(client.get("/logout").get_data(as_text=True))
    assert after != before
    # The pre-login session cookie does not sign anyone in.
    other = app.test_client()
    other.set_cookie("session", old_cookie)
    assert other.get("/courses/").status_code == 302
    assert client.post("/logout", data={"csrf_token": after}).status_code == 302
    assert client.get("/courses/").status_code == 302


# Throttling ----------------------------------------------------------------------------

def fail(client, email, address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": "wrong-password"},
                       environ_base={"REMOTE_ADDR": address})


def test_throttle_per_account_same_answer_for_known_and_unknown(client, make_user):
    known = make_user("officer", email="known@example.test")
    bodies = []
    for email in ("known@example.test", "unknown@example.test"):
        for _ in range(5):
            assert fail(client, email).status_code == 401
        response = fail(client, email)
        assert response.status_code == 429
        assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
        bodies.append(response.get_data(as_text=True).replace(email, "EMAIL"))
        assert "Too many failed attempts" in bodies[-1]
    assert bodies[0] == bodies[1]
    # Even the right password is refused while the account is throttled.
    response = client.post("/login", data={"email": known.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.status_code == 429 and client.get("/courses/").status_code == 302

    rows = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "auth.login").order_by(AuditEntry.id)).all()
    outcomes = [(r.target.split(" ")[0], r.outcome) for r in rows]
    assert outcomes == [("known@example.test", "failure")] * 5 + [
        ("known@example.test", "denied")] + [("unknown", "failure")] * 5 + [
        ("unknown", "denied"), ("known@example.test", "denied")]
    assert all(r.actor_id is None for r in rows)
    assert all(r.address in ("10.0.0.1", "10.0.0.2") for r in rows)
    assert not any("unknown@example.test" in str((r.target, r.details)) for r in rows)
    # The typed email is not stored in the throttle table either.
    assert not any("example.test" in k for k in db.session.scalars(sa.select(LoginThrottle.key)))


def test_successful_sign_in_is_audited_and_clears_the_account_count(client, make_user):
    user = make_user("officer")
    for _ in range(4):
        fail(client, user.email)
    sign_in(client, user, remember=False)
    client.post("/logout")
    for _ in range(4):
        assert fail(client, user.email).status_code == 401
    actions = [(e.action, e.actor_id, e.outcome) for e in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.outcome == "success")
        .order_by(AuditEntry.id))]
    assert actions == [("auth.login", user.id, "success"), ("auth.logout", user.id, "success")]


def test_throttle_per_client_address(app, client, make_user):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 3
    user = make_user("officer")
    for n in range(3):
        assert fail(client, f"guess{n}@example.test").status_code == 401
    response = client.post("/login", data={"email": user.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 429 and "Retry-After" in response.headers
    # Another address is not held up.
    response = client.post("/login", data={"email": user.email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 302


def test_two_app_servers_share_the_throttle(app, app_config, make_user):
    other_app = create_app(app_config)  # a second server on the same database
    user = make_user("officer")
    first, second = app.test_client(), other_app.test_client()
    for client in (first, second, first, second, first):
        assert fail(client, user.email).status_code == 401
    assert fail(second, user.email).status_code == 429
    with other_app.app_context():
        db.session.remove()


def test_throttle_through_the_limits_storage(app, client, make_user):
    """With REDIS_URL the counters go through ``limits``; memory:// runs the same code."""
    app.config["LOGIN_THROTTLE_STORAGE"] = "memory://"
    user = make_user("officer")
    for _ in range(5):
        assert fail(client, user.email).status_code == 401
    response = fail(client, user.email)
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 900
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0
