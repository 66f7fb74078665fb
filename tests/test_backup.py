"""``flask backup`` and ``flask restore`` on both databases: certificates survive intact."""

from __future__ import annotations

import io
import json
import stat
import tarfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from learning import create_app
from learning.accounts.models import User
from learning.audit.service import verify_chain
from learning.certificates.models import Certificate
from learning.certificates.offline import check_payload
from learning.certificates.service import certificate_payload, find_certificate
from learning.certificates.signing import load_or_create_private_key
from learning.extensions import db
from learning.ops import backup as backup_module
from learning.ops.readiness import migration_heads
from learning.timeutil import utcnow
from tests.test_certificates import pass_final, read_all_lessons


@pytest.fixture
def app(app_config, backend, request):
    """An app on a fresh, migrated database of its own (the backups record its revision)."""
    if backend == "postgresql":
        url = request.getfixturevalue("postgres").create_database(f"backup_{uuid.uuid4().hex}")
        app_config = {**app_config, "SQLALCHEMY_DATABASE_URI": url}
    app = create_app({**app_config, "VERIFY_RATE_LIMIT": "1000 per minute"})
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def issue(client, make_user, login_as, synced):
    """Issue one certificate to a new officer through the real pages; its code."""

    def issue_one() -> str:
        officer = make_user("officer")
        login_as(officer)
        read_all_lessons(client)
        pass_final(client)
        code = db.session.scalar(sa.select(Certificate.code).where(
            Certificate.user_id == officer.id))
        assert code
        return code

    return issue_one


def verifies(app, client, code: str) -> bool:
    """The public page says valid and the signed QR payload checks with the public key."""
    certificate = find_certificate(code)
    if certificate is None:
        return False
    page = client.get(f"/verify/{code}")
    key = load_or_create_private_key(app.instance_path).public_key()
    offline = check_payload(certificate_payload(certificate), key, utcnow().date())
    return page.status_code == 200 and "verify-valid" in page.get_data(as_text=True) \
        and offline.status == "valid" and offline.fields["c"] == code


def test_restore_brings_back_every_certificate_and_drops_later_changes(
        app, client, runner, issue, tmp_path):
    codes = [issue(), issue()]
    payloads = [certificate_payload(find_certificate(code)) for code in codes]
    out = tmp_path / "waymark.backup"
    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it holds password hashes
    with tarfile.open(out) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
    assert manifest["revision"] == ",".join(migration_heads())
    assert manifest["database"] == db.engine.dialect.name

    result = runner.invoke(args=["certificates", "revoke", codes[0], "--reason", "error"])
    assert result.exit_code == 0, result.output
    later = issue()
    assert not verifies(app, client, codes[0]) and verifies(app, client, later)

    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert all(verifies(app, client, code) for code in codes)
    assert [certificate_payload(find_certificate(code)) for code in codes] == payloads
    assert find_certificate(later) is None
    assert client.get(f"/verify/{later}").status_code == 404
    assert verify_chain().ok  # the audit chain came back whole, the restore row appended
    actions = list(db.session.scalars(sa.text(
        "SELECT action FROM audit_entry WHERE action LIKE 'backup.%' ORDER BY id")))
    assert actions == ["backup.restore"]  # the backup's own row was written after the copy


def test_restore_across_schema_revisions_needs_force(app, runner, make_user, tmp_path):
    make_user("officer", email="before@example.test")
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0011'"))
    db.session.commit()
    out = tmp_path / "old.backup"
    assert runner.invoke(args=["backup", "--out", str(out)]).exit_code == 0
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = :head"),
                       {"head": ",".join(migration_heads())})
    db.session.commit()
    make_user("officer", email="after@example.test")

    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code != 0
    assert "schema revision 0011" in result.output and "--force" in result.output
    assert db.session.scalar(sa.select(User).where(User.email == "after@example.test"))

    result = runner.invoke(args=["restore", str(out), "--yes", "--force"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert db.session.scalar(sa.select(User).where(User.email == "after@example.test")) is None
    assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0011"


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_restore_refuses_what_is_not_a_matching_backup(app, runner, make_user, tmp_path):
    make_user("officer", email="keep@example.test")
    good = tmp_path / "good.backup"
    assert runner.invoke(args=["backup", "--out", str(good)]).exit_code == 0
    other = "sqlite" if db.engine.dialect.name == "postgresql" else "postgresql"
    manifest = {"database": other, "revision": ",".join(migration_heads()),
                "created": "2026-01-01T00:00:00Z", "format": "waymark-backup", "version": 1}
    cases = {
        "without --yes": ([str(good)], "--yes"),
        "not a tar file": ([str((tmp_path / "junk").resolve()), "--yes"], "not a Waymark"),
        "no manifest": ([str(_tar(tmp_path / "a", {"database.sqlite": b"x"})), "--yes"],
                        "no manifest"),
        "bad manifest": ([str(_tar(tmp_path / "b", {"manifest.json": b"{nope"})), "--yes"],
                         "unreadable manifest"),
        "other database": ([str(_tar(tmp_path / "c", {
            "manifest.json": json.dumps(manifest).encode()})), "--yes"], f"of a {other}"),
    }
    (tmp_path / "junk").write_bytes(b"\x00" * 2000)
    for name, (args, message) in cases.items():
        result = runner.invoke(args=["restore", *args])
        assert result.exit_code != 0, name
        assert message in result.output, (name, result.output)
    db.session.remove()
    assert db.session.scalar(sa.select(User).where(User.email == "keep@example.test"))


def test_postgresql_password_goes_through_the_environment(tmp_path, monkeypatch):
    """pg_dump gets PGPASSWORD in its environment; no argument carries the password."""
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI":
                      "postgresql+psycopg://waymark:pg-sekrit@127.0.0.1:1/waymark"})
    calls = []

    def fake_run(command, env, **_options):
        calls.append((command, env))
        Path(command[command.index("--file") + 1]).write_bytes(b"PGDMP")
        return type("Done", (), {"returncode": 0, "stdout": "", "stderr": ""})()

    monkeypatch.setattr(backup_module.subprocess, "run", fake_run)
    with app.app_context():
        backup_module.create_backup(tmp_path / "pg.backup")
    (command, env), = calls
    assert not any("sekrit" in part for part in command)
    assert env["PGPASSWORD"] == "pg-sekrit" and env["PGHOST"] == "127.0.0.1"
    assert env["PGUSER"] == "waymark" and env["PGDATABASE"] == "waymark"
