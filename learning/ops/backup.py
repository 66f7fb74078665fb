"""Backups: one file holding the database and a manifest naming its schema revision.

A backup is a tar archive with ``manifest.json`` and either ``database.sqlite`` (made
with SQLite's online backup API, consistent while the app serves) or
``database.pgdump`` (``pg_dump -Fc``). Restoring refuses a backup made at another
schema revision unless forced, and never a backup of the other kind of database.
PostgreSQL passwords go to pg_dump and pg_restore through the environment, never argv.
The instance folder (signing key and certificate) is not in the file: back it up once.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from learning.extensions import db
from learning.ops.readiness import database_revisions, migration_heads
from learning.timeutil import utcnow

FORMAT = "waymark-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
MAX_MANIFEST_BYTES = 64 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class Manifest:
    """What a backup file says about itself."""

    database: str  # "sqlite" or "postgresql"
    revision: str | None  # the alembic revision of the database when it was copied
    created: str  # ISO time, UTC
    format: str = FORMAT
    version: int = FORMAT_VERSION


def _kind(url: URL) -> str:
    if url.get_backend_name() not in MEMBERS:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {url.get_backend_name()}.")
    return url.get_backend_name()


def _revision() -> str | None:
    found = database_revisions()
    return ",".join(sorted(found)) if found else None


def pg_environment(url: URL) -> dict[str, str]:
    """libpq settings for ``url`` as environment variables (the password never in argv)."""
    env = dict(os.environ)
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database),
                        ("PGSSLMODE", url.query.get("sslmode"))):
        if value:
            env[name] = str(value)
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian package postgresql-client).")
    return found


def _run(command: list[str], url: URL) -> None:
    result = subprocess.run(command, env=pg_environment(url), capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        problem = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{Path(command[0]).name} failed: "
                          f"{problem[-1] if problem else result.returncode}")


def _copy_sqlite(source: str, target: str) -> None:
    """Copy one SQLite database into another with the online backup API."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def create_backup(out: Path) -> Manifest:
    """Write a backup of the app's database to ``out`` (readable by its owner only)."""
    url = make_url(str(db.engine.url.render_as_string(hide_password=False)))
    kind = _kind(url)
    manifest = Manifest(database=kind, revision=_revision(),
                        created=utcnow().isoformat(timespec="seconds") + "Z")
    db.session.rollback()
    with tempfile.TemporaryDirectory(prefix="waymark-backup-") as work:
        data = Path(work) / MEMBERS[kind]
        if kind == "sqlite":
            _copy_sqlite(url.database, str(data))
        else:
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  "--file", str(data)], url)
        (Path(work) / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2))
        partial = out.with_name(out.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w") as archive:
            archive.add(Path(work) / MANIFEST, arcname=MANIFEST)
            archive.add(data, arcname=data.name)
        partial.replace(out)
    return manifest


def read_manifest(archive: tarfile.TarFile) -> Manifest:
    """The manifest of an open backup archive, checked (BackupError if it is not one)."""
    try:
        member = archive.getmember(MANIFEST)
    except KeyError:
        raise BackupError("This is not a Waymark backup (no manifest.json).") from None
    if not member.isfile() or member.size > MAX_MANIFEST_BYTES:
        raise BackupError("This is not a Waymark backup (bad manifest.json).")
    try:
        fields = json.loads(archive.extractfile(member).read())
        manifest = Manifest(**fields)
    except (ValueError, TypeError) as exc:
        raise BackupError("This is not a Waymark backup (unreadable manifest.json).") from exc
    if manifest.format != FORMAT or manifest.version != FORMAT_VERSION \
            or manifest.database not in MEMBERS:
        raise BackupError("This backup was made in a format this version cannot read.")
    return manifest


def open_backup(path: Path) -> tarfile.TarFile:
    """Open a backup file for reading (BackupError if it is missing or not a tar file)."""
    try:
        return tarfile.open(path, mode="r:")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"Cannot read {path}: not a Waymark backup file.") from exc


def restore_backup(path: Path, *, force: bool = False) -> Manifest:
    """Replace the app's database with the backup in ``path``.

    Refuses a backup of the other kind of database, and one made at another schema
    revision than this code's unless ``force`` (then run ``flask db upgrade``).
    """
    url = make_url(str(db.engine.url.render_as_string(hide_password=False)))
    kind = _kind(url)
    with open_backup(path) as archive:
        manifest = read_manifest(archive)
        if manifest.database != kind:
            raise BackupError(f"This backup is of a {manifest.database} database; this "
                              f"instance uses {kind}.")
        expected = ",".join(sorted(migration_heads()))
        if manifest.revision != expected and not force:
            raise BackupError(f"This backup is at schema revision {manifest.revision}; this "
                              f"code expects {expected}. Restore with --force, then run "
                              "'flask db upgrade'.")
        try:
            member = archive.getmember(MEMBERS[kind])
        except KeyError:
            raise BackupError(f"The backup holds no {MEMBERS[kind]}.") from None
        if not member.isfile():
            raise BackupError(f"The backup's {MEMBERS[kind]} is not a regular file.")
        with tempfile.TemporaryDirectory(prefix="waymark-restore-") as work:
            data = Path(work) / MEMBERS[kind]
            with archive.extractfile(member) as source, data.open("wb") as target:
                shutil.copyfileobj(source, target)
            db.session.remove()
            db.engine.dispose()
            if kind == "sqlite":
                _copy_sqlite(str(data), url.database)
            else:
                _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                      "--no-privileges", "--single-transaction", "--exit-on-error",
                      "--dbname", url.database, str(data)], url)
    return manifest
