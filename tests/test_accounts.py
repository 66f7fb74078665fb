"""Signing in and out, redirect safety, cookies, and the account commands."""

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from learning.accounts import service as accounts_service
from learning.accounts.models import User
from learning.accounts.service import authenticate, is_safe_redirect
from learning.extensions import db
from tests.conftest import PASSWORD, csrf_token_from


def test_login_and_logout(client, make_user):
    officer = make_user("officer", email="ana@example.test")
    assert client.get("/courses/").status_code == 302
    response = client.post("/login", data={"email": " ANA@example.test ", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/training/"
    assert client.get("/courses/").status_code == 200
    assert db.session.get(User, officer.id).last_login_at is not None
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/courses/").status_code == 302


def test_failures_do_not_reveal_whether_the_email_exists(client, make_user):
    make_user("officer", email="known@example.test")
    make_user("officer", email="gone@example.test", active=False)
    pages = []
    for email, password in [("known@example.test", "wrong-password"),
                            ("unknown@example.test", "wrong-password"),
                            ("gone@example.test", PASSWORD)]:
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 401
        pages.append(response.get_data(as_text=True).replace(email, "EMAIL"))
        assert "The email or password is not correct." in pages[-1]
    assert pages[0] == pages[1] == pages[2]


def test_inactive_user_cannot_authenticate(app_ctx, make_user):
    user = make_user("officer", active=False)
    assert authenticate(user.email, PASSWORD) is None
    user.active = True
    db.session.commit()
    assert authenticate(user.email, PASSWORD).id == user.id


@pytest.mark.parametrize("target,safe", [
    ("/courses/x/", True),
    ("/courses/?a=1", True),
    ("https://evil.example/", False),
    ("//evil.example/", False),
    ("/\\evil.example", False),
    ("\\\\evil.example", False),
    ("javascript:alert(1)", False),
    ("http:/evil.example", False),
    ("", False),
    (None, False),
    ("/\tevil", False),
    ("courses/", False),
])
def test_safe_redirect(target, safe):
    assert is_safe_redirect(target) is safe


def test_login_follows_only_safe_next(client, make_user):
    user = make_user("officer")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "next": "/courses/field-basics/"})
    assert response.headers["Location"] == "/courses/field-basics/"
    client.post("/logout")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "next": "https://evil.example/"})
    assert response.headers["Location"] == "/training/"


def test_protected_page_sends_to_login_with_next(client):
    response = client.get("/courses/field-basics/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/courses/field-basics/"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/courses/field-basics/"' in page


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    user = make_user("officer")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_require_csrf_tokens(app, client, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("officer")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (400, 401)
    assert client.get("/courses/").status_code == 302
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    assert client.post("/logout").status_code == 400  # a forged logout is refused
    assert client.get("/courses/").status_code == 200


def test_a_form_refused_for_its_csrf_token_says_why_and_leads_back(app, client, make_user):
    """Signed out in another tab, then a button pressed on an old page: not a bare 400."""
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("officer")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    page = csrf_token_from(client.get("/account/password").get_data(as_text=True))
    stale = client.post("/logout", data={"csrf_token": "not-the-token"})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 400 and "This page is out of date" in html  # still signed in
    assert "Sign in again" not in html
    client.post("/logout", data={"csrf_token": page})
    lesson = "http://localhost/courses/field-basics/first-steps/"
    refused = client.post("/logout", data={"csrf_token": page}, headers={"Referer": lesson})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Your session has ended" in html
    assert 'href="/login?next=/courses/field-basics/first-steps/"' in html
    assert "<header" in html  # the site's own page, not Werkzeug's
    elsewhere = client.post("/logout", data={"csrf_token": page},
                            headers={"Referer": "https://evil.example/courses/"})
    assert 'href="/login"' in elsewhere.get_data(as_text=True)
    autosave = client.post("/logout", data={"csrf_token": page},
                           headers={"Accept": "application/json"})
    assert autosave.status_code == 400 and autosave.get_json()["signed_out"] is True
    assert "signed out" in autosave.get_json()["error"]


def test_passwords_are_hashed_with_rfc_9106_parameters():
    """The suite signs in with argon2's cheapest parameters (tests/conftest.py); the app
    itself hashes with argon2id, 3 passes over 64 MiB."""
    parameters = accounts_service.PASSWORD_PARAMETERS
    assert (parameters.type.name, parameters.time_cost, parameters.memory_cost) == ("ID", 3, 65536)
    real = PasswordHasher.from_parameters(parameters).hash("a-long-password")
    assert real.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts_service._hasher.time_cost == 1  # this test session's cheap stand-in


def test_users_cli_create_and_set_password(runner, app_ctx, agency, make_unit):
    make_unit(agency, "North Post")
    result = runner.invoke(args=["users", "create", "--email", "New@Example.test", "--name",
                                 "Nadia Officer", "--role", "officer", "--agency", "agency-a",
                                 "--unit", "North Post", "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "new@example.test"))
    assert user.unit.name == "North Post" and user.password_hash.startswith("$argon2id$")
    assert authenticate("new@example.test", "a-long-password") is not None

    result = runner.invoke(args=["users", "create", "--email", "new@example.test", "--name",
                                 "X", "--agency", "agency-a", "--password", "a-long-password"])
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(args=["users", "create", "--email", "o@example.test", "--name", "X",
                                 "--password", "a-long-password"])
    assert result.exit_code != 0 and "must belong to an agency" in result.output
    result = runner.invoke(args=["users", "create", "--email", "t@example.test", "--name", "T",
                                 "--role", "trainer", "--password", "short"])
    assert result.exit_code != 0 and "at least 10 characters" in result.output

    result = runner.invoke(args=["users", "set-password", "new@example.test",
                                 "--password", "another-long-one"])
    assert result.exit_code == 0
    assert authenticate("new@example.test", "a-long-password") is None
    assert authenticate("new@example.test", "another-long-one") is not None
    result = runner.invoke(args=["users", "set-password", "nobody@example.test",
                                 "--password", "another-long-one"])
    assert result.exit_code != 0 and "No user" in result.output


def test_demo_command_refuses_outside_debug_mode(app, runner, app_ctx):
    app.testing = False  # as in production: neither debug nor testing
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0 and "never in production" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_the_demo_trainer_owns_a_course_and_others_are_told_how_to_get_one(
        client, login_as, synced, make_user):
    from learning.accounts.cli import ensure_demo_accounts, ensure_demo_authoring

    ensure_demo_accounts()
    assert ensure_demo_authoring("field-basics") is True
    assert ensure_demo_authoring("field-basics") is False  # once
    assert ensure_demo_authoring("no-such-course") is False
    client.post("/login", data={"email": "trainer@example.org", "password": "waymark-demo"})
    page = client.get("/author/drafts/").get_data(as_text=True)
    assert "/author/courses/field-basics/draft" in page and "cannot edit any" not in page
    client.post("/logout")
    login_as(make_user("trainer"))
    page = client.get("/author/drafts/").get_data(as_text=True)
    assert "/author/courses/field-basics/draft" not in page
    assert "You cannot edit any of these courses yet" in page


def test_demo_command_is_idempotent(runner, app_ctx):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and first.output.count("(new)") == 4
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "(new)" not in second.output
    # The four accounts, and two officers without a password for the manager to invite.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 6
    assert authenticate("new.officer1@example.org", "") is None
    officer = authenticate("officer@example.org", "waymark-demo")
    assert officer.role == "officer" and officer.unit.name == "Northern Airport Post"
    assert authenticate("admin@example.org", "waymark-demo").role == "admin"
