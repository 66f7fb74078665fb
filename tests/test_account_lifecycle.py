"""Account lifecycle: every event ends every session, password change and e-mailed resets,
invitations only for unused accounts, an import that reveals no other agency, clean names."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from learning.accounts.models import PasswordReset, User
from learning.accounts.passwords import send_reset_link
from learning.accounts.service import (
    AccountError,
    clean_display_name,
    create_user,
    get_or_create_agency,
)
from learning.agency.models import AuditEntry
from learning.agency.reminders import OutgoingMessage, send_pending
from learning.agency.reminders_models import Notification
from learning.agency.staff import (
    StaffError,
    create_invitation,
    deactivate_officer,
    reactivate_officer,
)
from learning.agency.staff_import import preview_import
from learning.agency.staff_models import Invitation
from learning.core.sealed import unseal
from learning.extensions import db
from learning.timeutil import utcnow
from tests.clients import browsers  # noqa: F401  (fixture)
from tests.conftest import PASSWORD

NEW_PASSWORD = "a-long-new-password"
BASE_URL = "https://waymark.example"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "BASE_URL": BASE_URL}


pytestmark = pytest.mark.usefixtures("browsers")


@pytest.fixture
def s(app_ctx, agency, make_unit, make_user):
    north = make_unit(agency, "North Post")
    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    return SimpleNamespace(
        agency=agency, north=north, other=other,
        manager=make_user("manager", agency=agency, email="boss@a.test"),
        admin=make_user("admin", email="root@example.test"),
        officer=make_user("officer", agency=agency, unit=north, email="ana@a.test",
                          name="Ana Silva"),
        b_officer=make_user("officer", agency=other, unit=make_unit(other, "B Post"),
                            email="bea@b.test", name="Bea Long"),
    )


def sign_in(app, user: User, password: str = PASSWORD):
    """A separate browser, signed in as ``user``."""
    browser = app.test_client()
    response = browser.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302
    assert browser.get("/courses/").status_code == 200
    return browser


def is_anonymous(browser) -> bool:
    response = browser.get("/courses/")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def audit_actions() -> list[str]:
    """Audited actions in order, leaving out sign-in and sign-out rows."""
    return list(db.session.scalars(sa.select(AuditEntry.action)
                                   .where(AuditEntry.action.not_like("auth.%"))
                                   .order_by(AuditEntry.id)))


def outbox(kind: str) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).where(Notification.kind == kind)
                                   .order_by(Notification.id)))


def reset_token_from_outbox() -> str:
    body = unseal(outbox("password_reset")[-1].body)
    return re.search(re.escape(BASE_URL) + r"/reset/([A-Za-z0-9_-]+)\n", body).group(1)


# Every event ends every existing session of the account at its next request.

def test_logout_ends_every_session_of_the_account(s, app):
    phone, desk = sign_in(app, s.officer), sign_in(app, s.officer)
    desk.post("/logout")
    assert is_anonymous(phone) and is_anonymous(desk)


def test_password_change_ends_other_sessions_and_keeps_this_one(s, app):
    phone, desk = sign_in(app, s.officer), sign_in(app, s.officer)
    assert "Change password" in desk.get("/account/password").get_data(as_text=True)
    wrong = desk.post("/account/password", data={"current": "not-my-password",
                                                 "password": NEW_PASSWORD,
                                                 "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400
    assert "The current password is not correct." in wrong.get_data(as_text=True)
    same = desk.post("/account/password", data={"current": PASSWORD, "password": PASSWORD,
                                                "confirm": PASSWORD})
    assert same.status_code == 400
    assert "the same as the current one" in same.get_data(as_text=True)
    assert not is_anonymous(phone)
    done = desk.post("/account/password", data={"current": PASSWORD, "password": NEW_PASSWORD,
                                                "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert is_anonymous(phone) and not is_anonymous(desk)
    sign_in(app, s.officer, NEW_PASSWORD)
    assert [n.user_id for n in outbox("password_changed")] == [s.officer.id]
    assert audit_actions() == ["password.change", "password.change"]
    outcomes = db.session.scalars(sa.select(AuditEntry.outcome)
                                  .where(AuditEntry.action == "password.change")
                                  .order_by(AuditEntry.id)).all()
    assert outcomes == ["failure", "success"]


def test_deactivation_ends_sessions_even_after_reactivation(s, app):
    phone = sign_in(app, s.officer)
    deactivate_officer(s.manager, s.officer.id)
    assert db.session.get(User, s.officer.id).deactivated_at is not None
    reactivate_officer(s.manager, s.officer.id)
    assert db.session.get(User, s.officer.id).deactivated_at is None
    assert is_anonymous(phone)
    sign_in(app, s.officer)


def test_role_change_ends_sessions(s, app):
    phone = sign_in(app, s.officer)
    admin = sign_in(app, s.admin)
    unchanged = {"role": "officer", "agency_id": s.agency.id, "unit_id": s.north.id}
    admin.post(f"/admin/users/{s.officer.id}/", data=unchanged)
    assert not is_anonymous(phone)  # saving without a change ends nothing
    response = admin.post(f"/admin/users/{s.officer.id}/",
                          data={**unchanged, "role": "trainer", "agency_id": 0, "unit_id": 0})
    assert response.status_code == 302
    assert is_anonymous(phone)
    assert not is_anonymous(admin)
    assert audit_actions() == ["user.role"]


def test_cli_set_password_ends_sessions_and_tells_the_owner(s, app, runner):
    phone = sign_in(app, s.officer)
    result = runner.invoke(args=["users", "set-password", s.officer.email, "--password",
                                 NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert is_anonymous(phone)
    assert [n.user_id for n in outbox("password_changed")] == [s.officer.id]
    assert audit_actions() == ["password.set"]


# Password reset, end to end.

def test_a_link_sealed_under_another_secret_key_is_not_sent(s, app, client):
    client.post("/forgot", data={"email": "ana@a.test"})
    sent = []

    class Mailer:
        def send(self, outgoing: OutgoingMessage) -> None:
            sent.append(outgoing)

    app.secret_key = "another-" + "k" * 56  # rotated between queueing and sending
    report = send_pending(Mailer())
    [message] = outbox("password_reset")
    assert (report.sent, report.failed, sent) == (0, 1, [])
    assert message.sent_at is None and "another secret key" in message.last_error
    assert message.body.startswith("sealed:v1:")


def test_reset_flow_end_to_end(s, app, client):
    phone = sign_in(app, s.officer)
    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot"' in login_page
    unknown = client.post("/forgot", data={"email": "nobody@a.test"},
                          headers={"Host": "evil.example"})
    known = client.post("/forgot", data={"email": "ANA@a.test"},
                        headers={"Host": "evil.example"})
    assert unknown.status_code == known.status_code == 200
    assert unknown.get_data() == known.get_data()
    assert "if an account exists" in known.get_data(as_text=True).lower()

    [message] = outbox("password_reset")
    assert message.user_id == s.officer.id and "evil.example" not in unseal(message.body)
    token = reset_token_from_outbox()
    [reset] = db.session.scalars(sa.select(PasswordReset)).all()
    assert reset.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in reset.token_hash
    assert timedelta(minutes=59) < reset.expires_at - reset.created_at <= timedelta(hours=1)
    sent = []

    class Mailer:
        def send(self, outgoing: OutgoingMessage) -> None:
            sent.append(outgoing)

    assert token not in message.body and message.body.startswith("sealed:v1:")  # at rest
    send_pending(Mailer())
    assert [m.to for m in sent] == ["ana@a.test"] and f"/reset/{token}\n" in sent[0].body
    [message] = outbox("password_reset")
    assert token not in message.body and "/reset/[redacted]" in message.body  # once sent

    page = client.get(f"/reset/{token}")
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"
    assert not is_anonymous(phone)  # opening the link changes nothing
    differ = client.post(f"/reset/{token}", data={"password": NEW_PASSWORD, "confirm": "x"})
    assert "The two passwords differ." in differ.get_data(as_text=True)
    done = client.post(f"/reset/{token}", data={"password": NEW_PASSWORD,
                                                "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert is_anonymous(phone)
    sign_in(app, s.officer, NEW_PASSWORD)
    db.session.expire_all()
    assert db.session.get(PasswordReset, reset.id).used_at is not None
    assert [n.user_id for n in outbox("password_changed")] == [s.officer.id]

    again = client.post(f"/reset/{token}", data={"password": "another-password-1",
                                                 "confirm": "another-password-1"})
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    sign_in(app, s.officer, NEW_PASSWORD)  # the reuse changed nothing
    assert client.get("/reset/" + "x" * 43).status_code == 404
    assert audit_actions() == ["password.reset.request", "password.reset.request",
                               "password.reset.complete"]


def test_reset_links_expire_and_a_newer_one_replaces_the_older(s, client):
    send_reset_link(s.officer)
    first = reset_token_from_outbox()
    send_reset_link(s.officer)
    second = reset_token_from_outbox()
    replaced = client.get(f"/reset/{first}")
    assert replaced.status_code == 410 and "replaced" in replaced.get_data(as_text=True)
    db.session.execute(sa.update(PasswordReset).values(expires_at=utcnow() - timedelta(1)))
    db.session.commit()
    expired = client.post(f"/reset/{second}", data={"password": NEW_PASSWORD,
                                                    "confirm": NEW_PASSWORD})
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert db.session.get(User, s.officer.id).password_hash == s.officer.password_hash
    # A fourth request within the hour sends nothing: nobody can flood an inbox.
    assert send_reset_link(s.officer) is True
    assert send_reset_link(s.officer) is False
    assert len(outbox("password_reset")) == 3


def test_admin_sends_a_reset_link_to_the_user_and_never_sees_it(s, app):
    admin = sign_in(app, s.admin)
    page = admin.get(f"/admin/users/{s.officer.id}/").get_data(as_text=True)
    assert f'action="/admin/users/{s.officer.id}/reset-password"' in page
    response = admin.post(f"/admin/users/{s.officer.id}/reset-password",
                          follow_redirects=True)
    token = reset_token_from_outbox()
    assert response.status_code == 200 and token not in response.get_data(as_text=True)
    assert "/reset/" not in response.get_data(as_text=True)
    assert outbox("password_reset")[0].user_id == s.officer.id
    entry = db.session.scalar(sa.select(AuditEntry)
                              .where(AuditEntry.action.not_like("auth.%")))
    assert (entry.action, entry.actor_id, entry.target) == (
        "password.reset.request", s.admin.id, "ana@a.test")
    manager = sign_in(app, s.manager)
    assert manager.post(f"/admin/users/{s.officer.id}/reset-password").status_code == 403


# Managers never set the password of an account in use.

def test_a_manager_cannot_invite_or_set_the_password_of_an_active_account(s, app):
    manager = sign_in(app, s.manager)
    staff_page = manager.get("/agency/staff/").get_data(as_text=True)
    assert f"/agency/staff/{s.officer.id}/invite" not in staff_page
    response = manager.post(f"/agency/staff/{s.officer.id}/invite", follow_redirects=True)
    assert "already has a password, so they cannot be invited" in response.get_data(
        as_text=True)
    assert db.session.scalars(sa.select(Invitation)).all() == []
    with pytest.raises(StaffError, match="cannot be invited"):
        create_invitation(s.manager, s.officer.id)
    assert audit_actions() == ["invitation.create", "invitation.create"]
    assert set(db.session.scalars(sa.select(AuditEntry.outcome).where(
        AuditEntry.action.not_like("auth.%")))) == {"denied"}


def test_an_invitation_stops_working_once_the_account_is_in_use(s, app, client):
    s.officer.password_hash = None
    db.session.commit()
    _invitation, token = create_invitation(s.manager, s.officer.id)
    s.officer.last_login_at = utcnow()  # signed in some other way (e.g. a reset link)
    db.session.commit()
    response = client.post(f"/invite/{token}", data={"password": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    assert "already has a password" in response.get_data(as_text=True)
    assert db.session.get(User, s.officer.id).password_hash is None


# The staff import reveals nothing about other agencies.

def upload(browser, data: bytes):
    return browser.post("/agency/staff/import", data={"file": (io.BytesIO(data), "staff.csv")},
                        content_type="multipart/form-data")


def test_an_other_agency_email_imports_exactly_like_a_new_one(s, app):
    manager = sign_in(app, s.manager)
    pages = {}
    for email in ("bea@b.test", "new@b.test"):
        data = f"email,name,unit\n{email},Bea Long,North Post\n".encode()
        preview = upload(manager, data)
        html = preview.get_data(as_text=True)
        fields = {name: re.search(rf'name="{name}" type="hidden" value="([^"]+)"', html)
                  .group(1) for name in ("pending_id", "sha256")}
        done = manager.post("/agency/staff/import/confirm", data=fields, follow_redirects=True)
        digest = hashlib.sha256(data).hexdigest()
        pages[email] = [(preview.status_code, html.replace(email, "EMAIL")
                         .replace(digest, "DIGEST")
                         .replace(f'value="{fields["pending_id"]}"', 'value="ID"')),
                        (done.status_code, re.search(r'<div class="flashes".*?</div>',
                                                     done.get_data(as_text=True), re.S)[0])]
    assert pages["bea@b.test"] == pages["new@b.test"]
    assert "1 officers to add" in pages["bea@b.test"][0][1]
    bea = db.session.get(User, s.b_officer.id)
    assert (bea.agency_id, bea.display_name, bea.unit_id) == (
        s.other.id, "Bea Long", s.b_officer.unit_id)
    assert db.session.scalar(sa.select(User).where(User.email == "new@b.test")).agency_id == \
        s.agency.id
    skipped = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "staff.import.skip"))
    assert (skipped.target, skipped.outcome) == ("bea@b.test", "denied")


# Display names.

@pytest.mark.parametrize("char,message", [
    ("\u202e", "text-direction control character (U+202E)"),
    ("\u2067", "text-direction control character (U+2067)"),
    ("\u200f", "text-direction control character (U+200F)"),
    ("\u061c", "text-direction control character (U+061C)"),
    ("\u200b", "invisible zero-width character (U+200B)"),
    ("\u2060", "invisible zero-width character (U+2060)"),
    ("\ufeff", "invisible zero-width character (U+FEFF)"),
    ("\x07", "control character (U+0007)"),
    ("\n", "control character (U+000A)"),
])
def test_names_with_hidden_or_reordering_characters_are_refused(char, message):
    with pytest.raises(AccountError, match=re.escape(message)):
        clean_display_name(f"Ana{char}Silva")


def test_names_are_normalised_and_capped(s, runner):
    assert clean_display_name("  Jose\u0301   Mari\u0301a ") == "Jos\u00e9 Mar\u00eda"
    with pytest.raises(AccountError, match="longer than 120 characters"):
        clean_display_name("A" * 121)
    user = create_user("nfc@a.test", "Zoe\u0308", None, "officer", s.agency)
    assert user.display_name == "Zo\u00eb"
    result = runner.invoke(args=["users", "create", "--email", "evil@a.test", "--name",
                                 "Ana\u202eavliS", "--agency", "agency-a", "--password",
                                 NEW_PASSWORD])
    assert result.exit_code != 0 and "U+202E" in result.output
    preview = preview_import(s.manager, "email,name,unit\nx@a.test,Bob\u200bby,North Post\n"
                             .encode())
    assert [str(p) for p in preview.problems] == [
        "line 2: The name contains an invisible zero-width character (U+200B); type it "
        "without one."]
