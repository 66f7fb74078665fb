"""Course zips: import(export(x)) == x, and hostile zips refused with nothing written.

Every hostile archive is built here with ``zipfile`` (a few bytes patched where
``zipfile`` refuses to write what an attacker would), checked on its own and
uploaded through the browser form.
"""

from __future__ import annotations

import html
import io
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.author.ownership import grant
from learning.catalogue import archive
from learning.catalogue.archive import ArchiveError, build_zip, import_zip
from learning.catalogue.import_models import PendingCourseImport
from learning.catalogue.models import Course, CourseVersion, MediaAsset
from learning.catalogue.service import MARKER
from learning.catalogue.versions import export_zip, version_entries
from learning.extensions import db

COURSE = "courses/field-basics"


def current_version() -> CourseVersion:
    return db.session.scalar(sa.select(CourseVersion).join(
        Course, Course.current_version_id == CourseVersion.id))


def version_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion))


def exported(version: CourseVersion) -> dict[str, bytes]:
    """A version's zip as {name: bytes}, the export marker included."""
    with zipfile.ZipFile(io.BytesIO(export_zip(version))) as out:
        return {name: out.read(name) for name in out.namelist()}


def without_marker(entries: dict[str, bytes]) -> dict[str, bytes]:
    return {name: data for name, data in entries.items() if not name.endswith(MARKER)}


def zip_of(*entries: tuple[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        for name, data in entries:
            out.writestr(name, data)
    return buffer.getvalue()


def patched(data: bytes, old: bytes, new: bytes) -> bytes:
    """Replace ``old`` (a name, in the local and the central header alike) by ``new``."""
    assert data.count(old) == 2 and len(old) == len(new)
    return data.replace(old, new)


def with_flag(data: bytes, flag: int) -> bytes:
    """Set a general-purpose flag bit on every entry, local and central headers."""
    buffer = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = buffer.find(signature)
        while start != -1:
            bits = int.from_bytes(buffer[start + offset:start + offset + 2], "little") | flag
            buffer[start + offset:start + offset + 2] = bits.to_bytes(2, "little")
            start = buffer.find(signature, start + 4)
    return bytes(buffer)


def symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr(f"{COURSE}/course.md", "---\ntitle: x\n---\n")
        link = zipfile.ZipInfo(f"{COURSE}/secret.png")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def lying_size_zip() -> bytes:
    """An entry whose headers declare 2,000 bytes and which inflates to 200,000."""
    data = zip_of((f"{COURSE}/course.md", b"a" * 200_000))
    real = (200_000).to_bytes(4, "little")
    assert data.count(real) == 2
    return data.replace(real, (2_000).to_bytes(4, "little"))


def many_files() -> bytes:
    return zip_of(*((f"{COURSE}/f{n}.md", b"") for n in range(10_001)),
                  compression=zipfile.ZIP_STORED)


HOSTILE = {
    "symlink": (symlink_zip, "symbolic link"),
    "dotdot": (lambda: zip_of(("../evil", b"x"), (f"{COURSE}/course.md", b"x")), "'..'"),
    "dotdot-inside": (lambda: zip_of((f"{COURSE}/../../evil.md", b"x")), "'..'"),
    "absolute": (lambda: zip_of(("/abs/courses/field-basics/course.md", b"x")), "absolute"),
    "drive-letter": (lambda: zip_of(("C:/courses/field-basics/course.md", b"x")), "drive"),
    "backslash": (lambda: zip_of(("C:\\x", b"x")), "backslash"),
    "duplicate-case": (lambda: zip_of((f"{COURSE}/Lesson.md", b"a"), (f"{COURSE}/lesson.md",
                                                                       b"b")), "duplicate"),
    "duplicate-nfc": (lambda: zip_of((f"{COURSE}/caf\u00e9.md", b"a"),
                                     (f"{COURSE}/cafe\u0301.md", b"b")), "duplicate"),
    "duplicate-exact": (lambda: zip_of((f"{COURSE}/course.md", b"a"), (f"{COURSE}/course.md",
                                                                        b"b")), "duplicate"),
    "nul-byte": (lambda: patched(zip_of((f"{COURSE}/aXb.md", b"x")), b"aXb", b"a\x00b"),
                 "control character"),
    "control-char": (lambda: zip_of((f"{COURSE}/a\x1bb.md", b"x")), "control character"),
    "outside-roots": (lambda: zip_of(("etc/passwd", b"x")), "outside courses/"),
    "bad-slug": (lambda: zip_of(("courses/Field_Basics/course.md", b"x")), "lower-case"),
    "two-courses": (lambda: zip_of((f"{COURSE}/course.md", b"x"),
                                   ("courses/other/course.md", b"x")), "more than one course"),
    "file-and-folder": (lambda: zip_of((f"{COURSE}/images", b"x"),
                                       (f"{COURSE}/images/a.png", b"x")), "file and a folder"),
    "too-many-files": (many_files, "10,001 entries"),
    "encrypted": (lambda: with_flag(zip_of((f"{COURSE}/course.md", b"x")), 0x1), "encrypted"),
    "zip-bomb": (lambda: zip_of((f"{COURSE}/course.md", b"\0" * 1_000_000)), "zip bomb"),
    "entry-too-large": (lambda: zip_of((f"{COURSE}/course.md", b"a" * 2_000_000),
                                       compression=zipfile.ZIP_STORED), "too large"),
    "lying-size": (lying_size_zip, "damaged"),
    "nested-by-name": (lambda: zip_of((f"{COURSE}/inner.zip", zip_of(("a", b"b")))), "nested"),
    "nested-by-magic": (lambda: zip_of((f"{COURSE}/course.md", zip_of(("a", b"b")))),
                        "nested"),
    "not-a-zip": (lambda: b"%PDF-1.7 this is not a zip at all", "not a readable zip"),
    "empty-zip": (lambda: zip_of(), "no course folder"),
    "bzip2": (lambda: zip_of((f"{COURSE}/course.md", b"x"), compression=zipfile.ZIP_BZIP2),
              "compression"),
}


def tree(folder: Path) -> list[tuple[str, int, int]]:
    """Every path under ``folder`` with its size and modification time."""
    return sorted((str(p.relative_to(folder)), p.lstat().st_size, p.lstat().st_mtime_ns)
                  for p in folder.rglob("*"))


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """Where every temporary folder goes in these tests, so one left behind is seen."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_zips_are_refused_before_anything_is_written(case, scratch, content_dirs):
    build, expected = HOSTILE[case]
    data = build()
    before = tree(content_dirs[0].parent)
    with pytest.raises(ArchiveError) as refused:
        import_zip(data, scratch=scratch)
    assert any(expected in problem.message for problem in refused.value.problems), \
        refused.value.problems
    assert all(problem.path and problem.line == 1 for problem in refused.value.problems)
    assert list(scratch.iterdir()) == [], "the temporary folder was left behind"
    assert not (scratch.parent / "evil").exists() and not Path("/abs").exists()
    assert tree(content_dirs[0].parent) == before


def test_the_zip_bomb_is_small_on_disk_and_huge_inflated():
    data = HOSTILE["zip-bomb"][0]()
    info = zipfile.ZipFile(io.BytesIO(data)).infolist()[0]
    assert len(data) < 5_000 and info.file_size / info.compress_size > archive.MAX_RATIO


def test_symlink_entry_is_a_link_in_the_central_directory():
    info = zipfile.ZipFile(io.BytesIO(symlink_zip())).infolist()[1]
    assert stat.S_ISLNK(info.external_attr >> 16)


def test_round_trip_import_of_export_is_the_same_version(synced, scratch):
    version = current_version()
    data = export_zip(version)
    loaded = import_zip(data, scratch=scratch)
    course = loaded.load.course
    assert course is not None and loaded.slug == "field-basics"
    assert course.content_hash == version.content_hash
    assert dict(course.files) == version.files
    stored = {a.sha256: a.data for a in db.session.scalars(sa.select(MediaAsset))}
    assert {a.path: a.data for a in course.assets} == \
        {path: stored[sha] for path, sha in version.assets.items()}
    assert loaded.base_hash == version.content_hash
    assert list(scratch.iterdir()) == []


def test_export_is_deterministic_and_laid_out_by_course(synced):
    version = current_version()
    data = export_zip(version)
    assert export_zip(version) == data
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    names = [info.filename for info in infos]
    marker = f"{COURSE}/{archive.MARKER}"
    assert names == sorted(names)
    assert sorted(set(names) - {marker}) == [name for name, _data in version_entries(version)]
    assert zipfile.ZipFile(io.BytesIO(data)).read(marker) == \
        f"{version.content_hash}\n".encode()
    assert archive.MARKER == MARKER  # the marker flask content export writes
    assert f"{COURSE}/course.md" in names and f"{COURSE}/images/diagram.png" in names
    assert "quizzes/field-basics/final.yaml" in names
    assert {info.date_time for info in infos} == {archive.ZIP_TIMESTAMP}


def test_content_problems_come_back_as_path_and_line(synced, scratch):
    entries = dict(version_entries(current_version()))
    entries[f"{COURSE}/first-steps.md"] = b"---\ntitle: First\nestimated_minutes: many\n---\nx\n"
    loaded = import_zip(build_zip(entries.items()), scratch=scratch)
    assert loaded.load.course is None
    assert any(p.path == f"{COURSE}/first-steps.md" and p.line == 3 for p in loaded.load.errors)


def test_cli_round_trip_through_a_zip(synced, runner, tmp_path):
    version = current_version()
    target = tmp_path / "course.zip"
    result = runner.invoke(args=["content", "export", "field-basics", "--zip", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == export_zip(version)
    result = runner.invoke(args=["content", "import-zip", str(target)])
    assert result.exit_code == 0, result.output
    assert "unchanged" in result.output and version_count() == 1
    entries = exported(version)
    entries[f"{COURSE}/wrap-up.md"] += b"\nOne more closing line.\n"
    target.write_bytes(build_zip(entries.items()))
    result = runner.invoke(args=["content", "import-zip", str(target)])
    assert result.exit_code == 0, result.output
    assert "published version 2" in result.output
    new = current_version()
    assert new.origin == "import" and new.based_on_hash == version.content_hash
    assert dict(version_entries(new)) == without_marker(entries)


def test_cli_refuses_a_hostile_zip_and_names_the_entry(synced, runner, tmp_path):
    target = tmp_path / "evil.zip"
    target.write_bytes(HOSTILE["dotdot"][0]())
    result = runner.invoke(args=["content", "import-zip", str(target)])
    assert result.exit_code == 1
    assert "../evil:1:" in result.output and "NOT imported" in result.output
    assert version_count() == 1


@pytest.fixture
def trainer(synced, make_user, login_as):
    user = make_user("trainer")
    grant("field-basics", user.email, "editor", None)  # an editor of the course
    db.session.commit()
    login_as(user)
    return user


def upload(client, data: bytes, name: str = "course.zip"):
    return client.post("/author/import", data={"archive": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("case", ["symlink", "dotdot", "absolute", "duplicate-case",
                                  "too-many-files", "encrypted", "zip-bomb", "not-a-zip"])
def test_hostile_uploads_get_a_clear_422_and_change_nothing(client, trainer, scratch, case,
                                                             content_dirs):
    build, expected = HOSTILE[case]
    before = tree(content_dirs[0].parent)
    response = upload(client, build())
    assert response.status_code == 422
    assert expected in html.unescape(response.get_data(as_text=True))
    assert "Nothing was imported" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingCourseImport)) == 0
    assert version_count() == 1
    assert list(scratch.iterdir()) == [] and tree(content_dirs[0].parent) == before


def test_an_oversized_upload_is_413(client, trainer, monkeypatch):
    monkeypatch.setattr("learning.author.version_views.MAX_UPLOAD_BYTES", 10)
    assert upload(client, export_zip(current_version())).status_code == 413
    assert upload(client, b"").status_code in (400, 422)


def test_upload_preview_and_confirm_publish_a_new_version(client, trainer, scratch):
    version = current_version()
    entries = exported(version)
    entries[f"{COURSE}/wrap-up.md"] += b"\nA closing line from the zip.\n"
    response = upload(client, build_zip(entries.items()))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f"{COURSE}/wrap-up.md" in page
    pending = db.session.scalar(sa.select(PendingCourseImport))
    assert version_count() == 1 and pending.course_slug == "field-basics"
    response = client.post("/author/import/confirm",
                           data={"pending_id": pending.id, "sha256": pending.sha256})
    assert response.status_code == 303
    new = current_version()
    assert new.number == 2 and new.files[f"{COURSE}/wrap-up.md"].endswith(
        "A closing line from the zip.\n")
    assert dict(version_entries(new)) == without_marker(entries)  # import(export(x)) == x
    assert new.origin == "import" and new.published_by == trainer.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingCourseImport)) == 0
    assert list(scratch.iterdir()) == []


def test_confirm_refuses_when_the_course_moved_on(client, trainer, make_user):
    entries = dict(version_entries(current_version()))
    entries[f"{COURSE}/wrap-up.md"] += b"\nFrom the zip.\n"
    upload(client, build_zip(entries.items()))
    pending = db.session.scalar(sa.select(PendingCourseImport))
    other = dict(entries)
    other[f"{COURSE}/wrap-up.md"] += b"\nPublished by someone else meanwhile.\n"
    from learning.catalogue.zip_import import load_zip, publish_zip
    publish_zip(load_zip(build_zip(other.items()))[0], make_user("admin"))
    db.session.commit()
    response = client.post("/author/import/confirm",
                           data={"pending_id": pending.id, "sha256": pending.sha256})
    assert response.status_code == 409
    assert "newer version" in response.get_data(as_text=True)
    assert version_count() == 2


def test_confirm_needs_the_digest_the_preview_showed(client, trainer, make_user, login_as):
    entries = dict(version_entries(current_version()))
    entries[f"{COURSE}/wrap-up.md"] += b"\nFrom the zip.\n"
    upload(client, build_zip(entries.items()))
    pending = db.session.scalar(sa.select(PendingCourseImport))
    assert client.post("/author/import/confirm", data={"pending_id": pending.id,
                                                       "sha256": "f" * 64}).status_code == 409
    client.post("/logout")
    login_as(make_user("trainer"))  # another trainer cannot publish someone else's upload
    assert client.post("/author/import/confirm", data={
        "pending_id": pending.id, "sha256": pending.sha256}).status_code == 409
    assert version_count() == 1


@pytest.mark.parametrize("role", ["officer", "manager"])
def test_officers_and_managers_cannot_import(client, synced, make_user, login_as, agency, role):
    login_as(make_user(role, agency=agency))
    assert client.get("/author/import").status_code == 403
    assert upload(client, export_zip(current_version())).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingCourseImport)) == 0


def test_a_zip_based_on_an_older_version_is_refused(client, trainer, make_user, runner,
                                                    tmp_path):
    """The rule sync follows: files exported from version 1 cannot replace version 2."""
    from learning.catalogue.zip_import import load_zip, publish_zip
    first = exported(current_version())
    newer = dict(first)
    newer[f"{COURSE}/wrap-up.md"] += b"\nPublished first.\n"
    publish_zip(load_zip(build_zip(newer.items()))[0], make_user("admin"))
    db.session.commit()
    stale = dict(first)
    stale[f"{COURSE}/wrap-up.md"] += b"\nEdited from the old export.\n"
    response = upload(client, build_zip(stale.items()))
    assert response.status_code == 422
    assert "version 2" in response.get_data(as_text=True) and "is newer" in \
        response.get_data(as_text=True)
    target = tmp_path / "stale.zip"
    target.write_bytes(build_zip(stale.items()))
    result = runner.invoke(args=["content", "import-zip", str(target)])
    assert result.exit_code == 1 and "is newer than these files" in result.output
    assert version_count() == 2


def test_a_forged_marker_is_refused(synced, scratch):
    entries = exported(current_version())
    entries[f"{COURSE}/{MARKER}"] = b"../../etc/passwd\n"
    with pytest.raises(ArchiveError) as refused:
        import_zip(build_zip(entries.items()), scratch=scratch)
    assert refused.value.problems[0].path == f"{COURSE}/{MARKER}"
    assert list(scratch.iterdir()) == []
