"""/admin/: agencies, units, roles, the audit log and settings; admins only."""

import sqlalchemy as sa

from learning.accounts.models import Agency, Unit, User
from learning.agency.models import AuditEntry
from learning.extensions import db


def test_agencies_units_and_roles_are_audited(client, app_ctx, make_user, login_as):
    admin = make_user("admin")
    trainer = make_user("trainer", email="t@example.test")
    login_as(admin)
    response = client.post("/admin/agencies/", data={"name": "Coast Guard", "slug": "coast-guard"})
    assert response.status_code == 302
    agency = db.session.scalar(sa.select(Agency).where(Agency.slug == "coast-guard"))
    assert "already" in client.post("/admin/agencies/", data={
        "name": "Coast Guard", "slug": "coast-guard"}, follow_redirects=True).get_data(
        as_text=True)
    client.post(f"/admin/agencies/{agency.id}/", data={"name": "Port North", "kind": "station"})
    unit = db.session.scalar(sa.select(Unit).where(Unit.agency_id == agency.id))
    assert unit.name == "Port North"

    response = client.post(f"/admin/users/{trainer.id}/", data={
        "role": "manager", "agency_id": agency.id, "unit_id": unit.id})
    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(User, trainer.id)
    assert (changed.role, changed.agency_id, changed.unit_id) == ("manager", agency.id, unit.id)
    html = client.post(f"/admin/users/{trainer.id}/", data={"role": "officer", "agency_id": 0,
                                                             "unit_id": 0}).get_data(as_text=True)
    assert "Officers and managers belong to an agency." in html
    html = client.post(f"/admin/users/{admin.id}/", data={"role": "trainer", "agency_id": 0,
                                                           "unit_id": 0}).get_data(as_text=True)
    assert "cannot remove your own admin role" in html

    actions = [a.action for a in db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action.not_like("auth.%")).order_by(AuditEntry.id))]
    assert actions == ["agency.create", "unit.create", "user.role"]
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "user.role" in page and "t@example.test" in page
    assert "user.role" not in client.get("/admin/audit/?action=unit.create").get_data(
        as_text=True).split("<tbody>")[1]


def test_settings_page_and_user_lookup(client, app_ctx, make_user, login_as):
    login_as(make_user("admin"))
    html = client.get("/admin/settings/").get_data(as_text=True)
    assert "Database" in html and ("SQLite" in html or "PostgreSQL" in html)
    officer = make_user("officer", email="find.me@example.test")
    response = client.get("/admin/users/?email=FIND.ME@example.test")
    assert response.headers["Location"] == f"/admin/users/{officer.id}/"


def test_settings_page_says_where_mail_goes_as_the_sender_will(client, app, app_ctx, make_user,
                                                              login_as, monkeypatch, tmp_path):
    """The environment counts as the sender reads it (WAYMARK_SMTP_HOST, WAYMARK_MAIL_DIR)."""
    login_as(make_user("admin"))
    for name in ("SMTP_HOST", "MAIL_DIR"):
        app.config.pop(name, None)
        monkeypatch.delenv(f"WAYMARK_{name}", raising=False)

    def mail_row() -> str:
        html = client.get("/admin/settings/").get_data(as_text=True)
        return html.split("Outgoing mail", 1)[1].split("</tr>", 1)[0]

    assert "written to the log" in mail_row()
    monkeypatch.setenv("WAYMARK_MAIL_DIR", str(tmp_path / "mail"))
    assert f"written as files into {tmp_path / 'mail'}" in mail_row()
    monkeypatch.setenv("WAYMARK_SMTP_HOST", "smtp.agency.test")
    assert "smtp.agency.test" in mail_row() and "files" not in mail_row()


def test_admin_pages_are_for_admins_only(client, app_ctx, make_user, login_as):
    login_as(make_user("manager"))
    for url in ("/admin/agencies/", "/admin/users/", "/admin/audit/", "/admin/settings/"):
        assert client.get(url).status_code == 403
