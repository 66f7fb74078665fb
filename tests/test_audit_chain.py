"""The audit trail: a hash chain that `flask audit verify` checks, a log the database will
not let anyone change, one row per security-relevant event, and an admin page of names."""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from learning import create_app
from learning.accounts.models import User
from learning.admin.service import create_agency
from learning.api import service as api_service
from learning.audit.chain import GENESIS, compute_hash
from learning.audit.models import AuditEntry
from learning.audit.service import record_audit, verify_chain
from learning.catalogue.models import Course
from learning.certificates.models import Certificate
from learning.extensions import db
from tests.test_certificates import pass_final, read_all_lessons
from tests.test_staff import GOOD, confirm_fields, upload


def entries() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def published(entry: AuditEntry) -> bool:
    """A row the catalogue's publishing wrote (the fixtures publish courses)."""
    return entry.action.startswith("content.")


def record_some(count: int, actor: User | None = None) -> None:
    for n in range(count):
        record_audit(actor, "test.event", f"thing {n}", {"n": n, "nested": {"b": 1, "a": [n]}},
                     outcome=("success", "failure", "denied")[n % 3], address="192.0.2.7")
        db.session.commit()


def as_attacker(*statements: str, params: dict | None = None) -> None:
    """Run SQL the way someone with superuser rights on the database would: triggers off."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        db.session.execute(sa.text("DROP TRIGGER IF EXISTS audit_entry_no_update"))
        db.session.execute(sa.text("DROP TRIGGER IF EXISTS audit_entry_no_delete"))
    for statement in statements:
        db.session.execute(sa.text(statement), params or {})
    db.session.commit()


# The chain ------------------------------------------------------------------------------

def test_chain_verifies_after_a_mix_of_events(app_ctx, runner, make_user):
    admin = make_user("admin", email="root@example.test")
    record_some(4, admin)
    create_agency(admin, "Coast Guard", "coast-guard")
    rows = entries()
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    assert rows[4].row_hash == compute_hash(
        5, rows[4].at, admin.id, rows[4].agency_id, "agency.create", rows[4].target,
        rows[4].details, "success", None, rows[3].row_hash)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"5 rows, chain intact, head {rows[4].row_hash}"
    check = entries()[5]  # the check's own result, chained after what it checked
    assert (check.id, check.action, check.outcome, check.prev_hash) == \
        (6, "audit.verify", "success", rows[4].row_hash)
    assert check.details == {"rows": 5, "head": rows[4].row_hash}
    assert runner.invoke(args=["audit", "anchor"]).output.strip() == f"6 {check.row_hash}"
    assert runner.invoke(args=["audit", "verify", "--no-record"]).output.strip() == \
        f"6 rows, chain intact, head {check.row_hash}"
    assert len(entries()) == 6


def test_verify_streams_in_batches(app_ctx):
    record_some(7)
    assert verify_chain(batch=2).rows == 7 and verify_chain(batch=2).ok


@pytest.mark.parametrize("statement,bad_id,reason", [
    ("UPDATE audit_entry SET target = 'someone else' WHERE id = 3", 3, "changed"),
    ("UPDATE audit_entry SET outcome = 'success' WHERE id = 3", 3, "changed"),
    ("UPDATE audit_entry SET details = '{\"n\": 99}' WHERE id = 3", 3, "changed"),
    ("DELETE FROM audit_entry WHERE id = 3", 4, "row 3 is missing"),
    ("DELETE FROM audit_entry WHERE id = 1", 2, "row 1 is missing"),
])
def test_a_changed_or_removed_row_is_named(app_ctx, runner, statement, bad_id, reason):
    record_some(5)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    as_attacker(statement)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at row {bad_id}:" in result.output and reason in result.output
    failed = entries()[-1]  # recorded too, for the admin page
    assert (failed.action, failed.outcome, failed.details["bad_row"]) == \
        ("audit.verify", "failure", bad_id)


@pytest.mark.parametrize("forged_hash_is_right,bad_id", [(False, 3), (True, 4)])
def test_a_row_inserted_in_the_middle_is_caught(app_ctx, runner, forged_hash_is_right, bad_id):
    """Room is made by renumbering the later rows; a forger who can even compute a correct
    hash for the new row is still caught at the next row, whose link no longer matches."""
    record_some(5)
    rows = entries()
    for row_id in (5, 4, 3):
        as_attacker(f"UPDATE audit_entry SET id = {row_id + 1} WHERE id = {row_id}")
    at, details = rows[1].at, {"forged": True}
    row_hash = compute_hash(3, at, None, None, "user.role", "me", details, "success", None,
                            rows[1].row_hash) if forged_hash_is_right else "f" * 64
    # Raw SQL: the ORM hook would number and chain the row itself.
    as_attacker("INSERT INTO audit_entry (id, at, action, target, details, outcome, prev_hash, "
                "row_hash) VALUES (3, :at, 'user.role', 'me', '{\"forged\": true}', 'success', "
                ":prev, :hash)", params={"at": at, "prev": rows[1].row_hash, "hash": row_hash})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at row {bad_id}:" in result.output
    assert ("changed" if bad_id == 3 else "inserted or removed") in result.output


def test_update_delete_and_truncate_are_refused(app_ctx, backend):
    record_some(2)
    statements = ["UPDATE audit_entry SET action = 'edited'", "DELETE FROM audit_entry"]
    if backend == "postgresql":
        statements.append("TRUNCATE audit_entry")
    for statement in statements:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert len(entries()) == 2 and verify_chain().ok


def test_concurrent_writers_keep_one_chain(app, app_ctx):
    """Threads with their own connections append at once; a pause between reading the last
    hash and inserting (where a second writer would slip in without the lock) changes nothing."""

    def slow_after_reading_head(_conn, _cursor, statement, *_args) -> None:
        if "FROM audit_entry ORDER BY audit_entry.id DESC" in statement:
            time.sleep(0.01)

    threads, per_thread, errors = 4, 6, []
    barrier = threading.Barrier(threads)

    def writer(number: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for n in range(per_thread):
                    record_audit(None, "test.concurrent", f"writer {number} row {n}")
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    sa.event.listen(db.engine, "after_cursor_execute", slow_after_reading_head)
    try:
        workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", slow_after_reading_head)
    assert errors == []
    verdict = verify_chain()
    assert verdict.ok, verdict.reason
    assert verdict.rows == threads * per_thread
    assert len({e.target for e in entries()}) == threads * per_thread


def test_migration_chains_the_rows_already_there(app_config, backend, request, tmp_path):
    """Rows written before the chain (old ids with a gap, outcome and address in details)
    are numbered, moved into their columns and chained; the triggers still hold."""
    if backend == "postgresql":
        server = request.getfixturevalue("postgres")
        app_config["SQLALCHEMY_DATABASE_URI"] = server.create_database(
            f"audit_migration_{id(request)}")
    else:
        app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'old.sqlite'}"
    app = create_app(app_config)
    with app.app_context():
        upgrade(revision="0007")
        for row_id, details in ((1, {"outcome": "failure", "address": "198.51.100.4"}),
                                (2, {"k": "v"}), (5, {"outcome": "denied"})):
            db.session.execute(sa.text(
                "INSERT INTO audit_entry (id, at, action, target, details) "
                "VALUES (:id, '2026-01-02 03:04:05', 'old.event', 'x', :details)"),
                {"id": row_id, "details": json.dumps(details)})
        db.session.commit()
        upgrade()
        rows = db.session.execute(sa.text(
            "SELECT id, outcome, address FROM audit_entry ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "failure", "198.51.100.4"),
                                            (2, "success", None), (3, "denied", None)]
        assert verify_chain().ok and verify_chain().rows == 3
        record_audit(None, "new.event", "y")
        db.session.commit()
        assert verify_chain().rows == 4
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text("UPDATE audit_entry SET target = 'z'"))
        db.session.rollback()
        if backend == "postgresql":
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                db.session.execute(sa.text("TRUNCATE audit_entry"))
            db.session.rollback()
        db.session.remove()
        db.engine.dispose()


# One row per event -----------------------------------------------------------------------

@pytest.fixture
def world(synced, agency, make_user, make_unit):
    north, south = make_unit(agency, "North Post"), make_unit(agency, "South Station")
    officer = make_user("officer", agency=agency, unit=north, email="olga@a.test",
                        name="Olga Officer")
    return SimpleNamespace(
        agency=agency, north=north, south=south, officer=officer,
        admin=make_user("admin", email="root@example.test", name="Ada Admin"),
        manager=make_user("manager", agency=agency, email="boss@a.test", name="Max Manager"),
        course=db.session.scalar(sa.select(Course)))


def _import(w, client, login_as):
    login_as(w.manager)
    page = upload(client, GOOD).get_data(as_text=True)
    assert client.post("/agency/staff/import/confirm",
                       data=confirm_fields(page)).status_code == 302
    return w.manager, "3 created"


def _assignment(w, client, login_as):
    login_as(w.manager)
    assert client.post("/agency/assignments/", data={
        "course_id": w.course.id, "due_on": "2030-01-31", "recurrence": "none",
        "unit_ids": [w.north.id]}).status_code == 302
    return w.manager, "assignment "


def _earn(w, client, login_as) -> Certificate:
    login_as(w.officer)
    read_all_lessons(client)
    pass_final(client)
    db.session.expire_all()
    return db.session.scalar(sa.select(Certificate))


def _certificate_issue(w, client, login_as):
    return w.officer, _earn(w, client, login_as).code


def _certificate_revoke(w, client, login_as):
    code = _earn(w, client, login_as).code
    client.post("/logout")
    login_as(w.admin)
    assert client.post(f"/admin/certificates/{code}",
                       data={"reason": "Issued in error"}).status_code == 302
    return w.admin, code


def _transcript(w, client, login_as):
    login_as(w.manager)
    assert client.get(f"/agency/officers/{w.officer.id}/").status_code == 200
    return w.manager, "olga@a.test"


def _export(kind: str):
    def export(w, client, login_as):
        login_as(w.manager)
        response = client.get(f"/agency/export.{kind}")
        assert response.status_code == 200
        response.get_data()
        return w.manager, "compliance"
    return export


def _api_read(w, client, login_as):
    token, raw = api_service.create_token(w.manager, "HR system")
    assert client.get("/api/v1/officers",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    return None, f"api token {token.id} (HR system)"


def _denied(w, client, login_as):
    login_as(w.officer)
    assert client.get("/admin/audit/").status_code == 403
    return w.officer, "GET /admin/audit/"


def _role_change(w, client, login_as):
    login_as(w.admin)
    assert client.post(f"/admin/users/{w.officer.id}/", data={
        "role": "manager", "agency_id": w.agency.id, "unit_id": 0}).status_code == 302
    return w.admin, "olga@a.test"


def _invitation(w, client, login_as):
    w.officer.password_hash = None
    db.session.commit()
    login_as(w.manager)
    assert client.post(f"/agency/staff/{w.officer.id}/invite").status_code == 200
    return w.manager, "olga@a.test"


EVENTS = {
    "staff.import": (_import, "success"),
    "assignment.create": (_assignment, "success"),
    "certificate.issue": (_certificate_issue, "success"),
    "certificate.revoke": (_certificate_revoke, "success"),
    "transcript.view": (_transcript, "success"),
    "export.csv": (_export("csv"), "success"),
    "export.xlsx": (_export("xlsx"), "success"),
    "api.read": (_api_read, "success"),
    "request.denied": (_denied, "denied"),
    "user.role": (_role_change, "success"),
    "invitation.create": (_invitation, "success"),
}


@pytest.mark.parametrize("action", EVENTS)
def test_each_event_is_one_row_with_actor_target_address_and_outcome(
        world, client, login_as, action):
    perform, outcome = EVENTS[action]
    actor, target = perform(world, client, login_as)
    rows = [e for e in entries() if e.action == action]
    assert len(rows) == 1, [e.action for e in entries()]
    row = rows[0]
    assert row.actor_id == (actor.id if actor else None)
    assert row.target.startswith(target) if target.endswith(" ") else target in row.target
    assert (row.address, row.outcome) == ("127.0.0.1", outcome)
    assert row.at is not None and verify_chain().ok


def test_no_secret_reaches_the_log(world, client, login_as):
    _token, raw = api_service.create_token(world.manager, "HR system")
    client.get("/api/v1/officers", headers={"Authorization": f"Bearer {raw}"})
    client.post("/login", data={"email": world.officer.email, "password": "wrong-password"})
    logged = str([(e.target, e.details) for e in entries()])
    assert raw not in logged and "wrong-password" not in logged


# Refusals --------------------------------------------------------------------------------

def test_a_refused_request_changes_nothing_and_is_recorded(world, client, login_as):
    login_as(world.manager)
    response = client.post("/admin/agencies/", data={"name": "Sneaky", "slug": "sneaky"})
    assert response.status_code == 403
    (row,) = [e for e in entries() if e.action != "auth.login" and not published(e)]
    assert (row.action, row.outcome, row.actor_id, row.target, row.details) == (
        "request.denied", "denied", world.manager.id, "POST /admin/agencies/",
        {"reason": "forbidden", "status": 403})
    assert row.agency_id == world.agency.id


def test_a_failed_csrf_check_is_recorded(app, world, client, login_as):
    login_as(world.manager)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/agency/assignments/", data={
        "course_id": world.course.id, "due_on": "2030-01-31", "recurrence": "none",
        "unit_ids": [world.north.id]})
    assert response.status_code == 400
    (row,) = [e for e in entries() if e.action != "auth.login" and not published(e)]
    assert (row.action, row.outcome, row.actor_id, row.details["reason"]) == (
        "request.denied", "denied", world.manager.id, "csrf")


def test_api_calls_without_a_valid_token_write_nothing(world, client):
    assert client.get("/api/v1/officers",
                      headers={"Authorization": "Bearer wm_nope"}).status_code == 401
    assert [e for e in entries() if not published(e)] == []


# The admin page --------------------------------------------------------------------------

def test_admin_page_shows_names_filters_and_pages(world, client, login_as):
    agency = create_agency(world.admin, "Coast Guard", "coast-guard")
    login_as(world.manager)
    client.get(f"/agency/officers/{world.officer.id}/")
    client.get("/admin/audit/")  # denied
    client.post("/logout")
    login_as(world.admin)
    html = client.get("/admin/audit/").get_data(as_text=True)
    body = html.split("<tbody>")[1]
    assert "Ada Admin &lt;root@example.test&gt;" in body
    assert "Max Manager &lt;boss@a.test&gt;" in body
    assert "<td>Coast Guard</td>" in body and f"agency {agency.id}<" not in body
    assert "<td>Agency A</td>" in body and "127.0.0.1" in body
    denied = client.get("/admin/audit/?outcome=denied").get_data(as_text=True)
    assert "request.denied" in denied.split("<tbody>")[1]
    assert "transcript.view" not in denied.split("<tbody>")[1]
    assert client.get("/admin/audit/?outcome=bogus").status_code == 400
    assert client.get("/admin/audit/?action=transcript.view&page=99").status_code == 200


def test_admin_page_shows_the_last_check_of_the_chain(world, client, login_as, runner):
    login_as(world.admin)

    def banner() -> str:
        html = client.get("/admin/audit/").get_data(as_text=True)
        return " ".join(html.split('id="chain-check"', 1)[1].split("</p>", 1)[0].split())

    assert "has not been checked in the last 8 days" in banner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    rows = len(entries()) - 1  # the check's own row comes after what it checked
    assert f"intact, {rows} rows." in banner()
    as_attacker("UPDATE audit_entry SET target = 'someone else' WHERE id = 1")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1
    assert "BROKEN at row 1." in banner() and "the row was changed" in banner()
    as_attacker("UPDATE audit_entry SET at = '2000-01-01 00:00:00' "
                "WHERE action = 'audit.verify'")
    assert "has not been checked in the last 8 days" in banner()  # stale checks are none


def test_admin_page_costs_the_same_statements_whatever_the_actors(
        world, client, login_as, make_user, count_statements):
    login_as(world.admin)

    def statements() -> int:
        with count_statements() as counter:
            assert client.get("/admin/audit/").status_code == 200
        return counter.count

    for n in range(2):
        create_agency(make_user("admin"), f"Agency {n}x", f"agency-{n}x")
    few = statements()
    for n in range(12):
        create_agency(make_user("admin"), f"Agency {n}y", f"agency-{n}y")
    assert statements() == few
