"""The session cookie: verified once per process, still refused when forged or expired."""

from __future__ import annotations

import pytest
from flask import session
from itsdangerous import TimestampSigner

pytestmark = pytest.mark.usefixtures("isolated_requests")

SIGNED_IN = {"_user_id": "7:0", "_fresh": True, "_id": "a" * 128, "csrf_token": "raw-token",
             "mfa_state": "verified", "mfa_at": 1_700_000_000.5}


@pytest.fixture
def cookies(app):
    """(interface, serializer) of the app's session cookie."""
    interface = app.session_interface
    return interface, interface.get_signing_serializer(app)


def count_loads(monkeypatch, serializer) -> list:
    calls = []
    loads = serializer.loads

    def counted(*args, **kwargs):
        calls.append(args)
        return loads(*args, **kwargs)

    monkeypatch.setattr(serializer, "loads", counted)
    return calls


def test_a_verified_cookie_is_read_again_without_verifying_it(app, cookies, monkeypatch):
    interface, serializer = cookies
    value = serializer.dumps(SIGNED_IN)
    calls = count_loads(monkeypatch, serializer)
    assert dict(interface.contents(app, value)) == SIGNED_IN
    assert dict(interface.contents(app, value)) == SIGNED_IN
    assert len(calls) == 1
    with pytest.raises(TypeError):  # what is remembered cannot be changed by a caller
        interface.contents(app, value)["_user_id"] = "1:0"


def test_a_remembered_cookie_still_expires(app, cookies, monkeypatch):
    interface, serializer = cookies
    value = serializer.dumps(SIGNED_IN)
    signed_at = TimestampSigner.get_timestamp(None)
    assert interface.contents(app, value) is not None  # remembered now
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at + lifetime)
    assert interface.contents(app, value) is not None  # exactly its lifetime: still valid
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at + lifetime + 1)
    assert interface.contents(app, value) is None
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at - 1)
    assert interface.contents(app, value) is None  # signed "in the future": refused too


def test_forged_and_foreign_cookies_are_refused_and_never_remembered(app, cookies):
    interface, serializer = cookies
    value = serializer.dumps(SIGNED_IN)
    payload, timestamp, signature = value.rsplit(".", 2)
    forged = [f"{payload}.{timestamp}.{signature[:-2]}AA",
              serializer.dumps({**SIGNED_IN, "_user_id": "1:0"}).rsplit(".", 1)[0]
              + "." + signature,
              "", "garbage", "a.b.c"]
    before = len(interface._verified.items)
    for cookie in forged:
        assert interface.contents(app, cookie) is None, cookie
    assert len(interface._verified.items) == before
    app.config["SECRET_KEY"] = "another-key-" + "y" * 50
    assert interface.contents(app, value) is None  # signed with the key before


def test_only_plain_contents_are_remembered(app, cookies, monkeypatch):
    interface, serializer = cookies
    flashed = {**SIGNED_IN, "_flashes": [["info", "Saved."]]}
    value = serializer.dumps(flashed)
    calls = count_loads(monkeypatch, serializer)
    assert interface.contents(app, value) == flashed
    assert interface.contents(app, value) == flashed
    assert len(calls) == 2  # a list could be changed in place by a request: read afresh


def test_a_request_changing_its_session_leaves_the_cookie_as_it_was(app, cookies):
    interface, serializer = cookies
    value = serializer.dumps(SIGNED_IN)
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context(headers={"Cookie": f"{name}={value}"}):
        assert dict(session) == SIGNED_IN
        session["_user_id"] = "8:0"
        session.pop("mfa_state")
        session["_flashes"] = [["info", "x"]]
    with app.test_request_context(headers={"Cookie": f"{name}={value}"}):
        assert dict(session) == SIGNED_IN
        assert not session.modified


def test_the_remembered_cookies_are_bounded(app, cookies, monkeypatch):
    interface, serializer = cookies
    monkeypatch.setattr(interface._verified, "size", 3)
    values = [serializer.dumps({**SIGNED_IN, "_user_id": f"{n}:0"}) for n in range(5)]
    for value in values:
        interface.contents(app, value)
    assert len(interface._verified.items) == 3
    calls = count_loads(monkeypatch, serializer)
    interface.contents(app, values[0])  # forgotten: verified again
    interface.contents(app, values[-1])  # still remembered
    assert len(calls) == 1
