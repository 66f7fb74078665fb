"""Admin journeys: create accounts without a shell, deactivate and reactivate them."""

import re

import sqlalchemy as sa

from learning.accounts.models import PasswordReset, User
from learning.agency.models import AuditEntry
from learning.agency.reminders_models import Notification
from learning.core.sealed import unseal
from learning.extensions import db
from tests.conftest import PASSWORD


def _actions() -> list[str]:
    return [a.action for a in db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action.not_like("auth.%")).order_by(AuditEntry.id))]


def test_admin_creates_a_trainer_who_sets_a_password_from_the_email(
        client, app_ctx, make_user, login_as, isolated_requests):
    admin = make_user("admin")
    login_as(admin)
    assert "Create an account" in client.get("/admin/users/").get_data(as_text=True)
    response = client.post("/admin/users/new", data={
        "email": " New.Trainer@Example.test ", "display_name": "Amina  Diallo", "role": "trainer",
        "agency_id": 0, "unit_id": 0})
    assert response.status_code == 302
    person = db.session.scalar(sa.select(User).where(User.email == "new.trainer@example.test"))
    assert (person.role, person.display_name, person.password_hash) == (
        "trainer", "Amina Diallo", None)
    assert response.headers["Location"] == f"/admin/users/{person.id}/"
    [message] = db.session.scalars(sa.select(Notification).where(
        Notification.user_id == person.id)).all()
    assert message.kind == "welcome" and "created a Waymark account" in unseal(message.body)
    [reset] = db.session.scalars(sa.select(PasswordReset).where(
        PasswordReset.user_id == person.id)).all()
    assert (reset.expires_at - reset.created_at).days == 3
    assert _actions()[:2] == ["user.create", "password.reset.request"]

    token = re.search(r"/reset/([A-Za-z0-9_-]+)", unseal(message.body)).group(1)
    client.post("/logout")
    assert client.get(f"/reset/{token}").status_code == 200
    response = client.post(f"/reset/{token}", data={
        "password": "a brand new secret", "confirm": "a brand new secret"})
    assert response.status_code == 302
    assert client.post("/login", data={"email": "new.trainer@example.test",
                                       "password": "a brand new secret"}).status_code == 302


def test_bad_new_accounts_are_refused_and_change_nothing(client, app_ctx, make_user, login_as,
                                                         agency):
    login_as(make_user("admin"))
    make_user("trainer", email="taken@example.test")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    for data in ({"email": "taken@example.test", "display_name": "X", "role": "trainer"},
                 {"email": "not-an-email", "display_name": "X", "role": "trainer"},
                 {"email": "m@example.test", "display_name": "X", "role": "manager"},
                 {"email": "r@example.test", "display_name": "X", "role": "emperor"},
                 {"email": "z@example.test", "display_name": "A\u202eB", "role": "trainer"},
                 {"email": "a@example.test", "display_name": "X", "role": "officer",
                  "agency_id": "999"},
                 {"email": "", "display_name": "", "role": "trainer"}):
        data = {"agency_id": 0, "unit_id": 0, **data}
        response = client.post("/admin/users/new", data=data)
        assert response.status_code == 400, data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    assert "user.create" not in _actions()


def test_deactivation_ends_sessions_and_withdraws_links(app, client, app_ctx, make_user,
                                                        login_as, isolated_requests):
    admin = make_user("admin")
    manager = make_user("manager")
    other = app.test_client()
    other.post("/login", data={"email": manager.email, "password": PASSWORD})
    assert other.get("/agency/").status_code == 200
    login_as(admin)
    client.post(f"/admin/users/{manager.id}/reset-password", data={})
    response = client.post(f"/admin/users/{manager.id}/active", data={"deactivate": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, manager.id)
    assert not person.active and person.deactivated_at is not None
    assert other.get("/agency/").status_code in (302, 401)
    assert all(r.revoked_at is not None for r in db.session.scalars(sa.select(PasswordReset)))
    assert app.test_client().post("/login", data={"email": manager.email,
                                                  "password": PASSWORD}).status_code != 302

    client.post(f"/admin/users/{manager.id}/active", data={"reactivate": "1"})
    db.session.expire_all()
    person = db.session.get(User, manager.id)
    assert person.active and person.deactivated_at is None
    assert _actions()[-2:] == ["user.deactivate", "user.reactivate"]


def test_deactivation_refuses_self_and_bad_requests(client, app_ctx, make_user, login_as):
    admin = make_user("admin")
    officer = make_user("officer")
    login_as(admin)
    html = client.post(f"/admin/users/{admin.id}/active", data={"deactivate": "1"},
                       follow_redirects=True).get_data(as_text=True)
    assert "cannot deactivate your own account" in html
    assert client.post(f"/admin/users/{officer.id}/active", data={}).status_code == 400
    assert client.post(f"/admin/users/{officer.id}/active", data={
        "deactivate": "1", "reactivate": "1"}).status_code == 400
    assert client.post("/admin/users/99999/active", data={"deactivate": "1"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, admin.id).active and db.session.get(User, officer.id).active
    assert "user.deactivate" not in _actions()


def test_user_management_is_for_admins_only(client, app_ctx, make_user, login_as):
    officer = make_user("officer")
    login_as(make_user("manager"))
    assert client.get("/admin/users/new").status_code == 403
    assert client.post("/admin/users/new", data={"email": "x@example.test",
                                                 "display_name": "X",
                                                 "role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{officer.id}/active",
                       data={"deactivate": "1"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, officer.id).active
