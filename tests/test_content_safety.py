"""Content never reads outside its own root, YAML cannot explode, and case data is flagged."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

import learning.author.service as author_service
from learning.catalogue.models import Course, CourseVersion, MediaAsset
from learning.catalogue.service import sync_catalogue
from learning.content import load_catalogue
from learning.content.safety import MAX_IMAGE_BYTES, MAX_TEXT_BYTES
from learning.extensions import db
from tests.conftest import FIXTURE_CONTENT

SECRET = b"the-instance-secret-key-that-signs-admin-sessions"
LINK = ("is a symbolic link: content never follows links, which could publish files from outside "
        "the content folder; put a copy of the file here instead")
COURSE = "courses/field-basics"


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    return root


@pytest.fixture
def content_dirs(content_root: Path) -> tuple[Path, Path]:
    return content_root / "courses", content_root / "quizzes"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "instance" / "secret_key"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def append_line(path: Path, line: str) -> int:
    """Append one line to a text file; return its line number."""
    lines = path.read_text().rstrip("\n").split("\n") + [line]
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def problems_of(root: Path) -> list[str]:
    return [str(p) for p in load_catalogue(root / "courses", root / "quizzes").problems]


# Each case changes the copied content and returns the exact problem it must produce.
def symlinked_lesson(root: Path, secret: Path) -> str:
    lesson = root / COURSE / "wrap-up.md"
    outside = secret.parent / "wrap-up.md"
    shutil.move(lesson, outside)
    lesson.symlink_to(outside)
    return f"{COURSE}/wrap-up.md:1: {LINK}"


def symlinked_image_to_secret(root: Path, secret: Path) -> str:
    image = root / COURSE / "images/diagram.png"
    image.unlink()
    image.symlink_to(secret)
    return f"{COURSE}/images/diagram.png:1: {LINK}"


def symlinked_directory(root: Path, secret: Path) -> str:
    images = root / COURSE / "images"
    outside = secret.parent / "images"
    shutil.move(images, outside)
    (outside / "diagram.png").write_bytes(SECRET)
    images.symlink_to(outside, target_is_directory=True)
    return f"{COURSE}/images:1: {LINK}"


def symlinked_course_folder(root: Path, secret: Path) -> str:
    folder = root / COURSE
    outside = secret.parent / "field-basics"
    shutil.move(folder, outside)
    folder.symlink_to(outside, target_is_directory=True)
    return f"{COURSE}:1: {LINK}"


def symlinked_quiz_folder(root: Path, secret: Path) -> str:
    folder = root / "quizzes/field-basics"
    outside = secret.parent / "quizzes"
    shutil.move(folder, outside)
    folder.symlink_to(outside, target_is_directory=True)
    return f"quizzes/field-basics:1: {LINK}"


def hard_link_to_outside(root: Path, secret: Path) -> str:
    image = root / COURSE / "images/diagram.png"
    image.unlink()
    os.link(secret, image)
    return (f"{COURSE}/images/diagram.png:1: has 2 hard links: a hard-linked file may be a file "
            "from outside the content folder, so it is refused; put a separate copy here instead")


def fifo(root: Path, secret: Path) -> str:
    image = root / COURSE / "images/diagram.png"
    image.unlink()
    os.mkfifo(image)
    return (f"{COURSE}/images/diagram.png:1: is a named pipe (FIFO): content folders hold only "
            "regular files and folders")


def dotdot_image(root: Path, secret: Path) -> str:
    line = append_line(root / COURSE / "wrap-up.md", "![key](../../instance/secret_key.png)")
    return (f"{COURSE}/wrap-up.md:{line}: '../../instance/secret_key.png' points outside the "
            "courses folder")


def dotdot_into_other_course(root: Path, secret: Path) -> str:
    line = append_line(root / COURSE / "wrap-up.md", "![key](images/../../other/images/x.png)")
    return f"{COURSE}/wrap-up.md:{line}: images must be inside the course's own folder"


def absolute_image(root: Path, secret: Path) -> str:
    line = append_line(root / COURSE / "wrap-up.md", f"![key]({secret}.png)")
    return (f"{COURSE}/wrap-up.md:{line}: use a path relative to the course folder, not one "
            "starting with '/'")


def file_url_image(root: Path, secret: Path) -> str:
    line = append_line(root / COURSE / "wrap-up.md", f"![key](file://{secret})")
    return f"{COURSE}/wrap-up.md:{line}: links with the scheme 'file:' are not allowed"


ESCAPES: dict[str, Callable[[Path, Path], str]] = {
    case.__name__: case for case in (
        symlinked_lesson, symlinked_image_to_secret, symlinked_directory, symlinked_course_folder,
        symlinked_quiz_folder, hard_link_to_outside, fifo, dotdot_image, dotdot_into_other_course,
        absolute_image, file_url_image,
    )
}


@pytest.mark.parametrize("case", ESCAPES)
def test_loader_refuses_paths_out_of_the_tree(case, tmp_path, secret_file):
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    expected = ESCAPES[case](root, secret_file)
    started = time.monotonic()
    catalogue = load_catalogue(root / "courses", root / "quizzes")
    assert time.monotonic() - started < 2  # a FIFO must not block the loader
    assert expected in [str(p) for p in catalogue.problems]
    assert catalogue.courses == ()


@pytest.mark.parametrize("case", ESCAPES)
def test_sync_publishes_nothing_from_outside(case, runner, app_ctx, content_root, secret_file):
    expected = ESCAPES[case](content_root, secret_file)
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 1
    assert expected in result.output
    assert "field-basics: NOT imported" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaAsset)) == 0


def test_media_are_served_from_stored_bytes(client, app_ctx, content_dirs, make_user, login_as,
                                            secret_file):
    assert sync_catalogue(*content_dirs).ok
    image = content_dirs[0] / "field-basics/images/diagram.png"
    published = image.read_bytes()
    login_as(make_user())
    page = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    (url,) = re.findall(r'src="(/media/[0-9a-f]{64}\.png)"', page)

    image.write_bytes(SECRET)
    assert client.get(url).data == published
    image.unlink()
    image.symlink_to(secret_file)
    response = client.get(url)
    assert response.status_code == 200 and response.data == published
    image.unlink()
    assert client.get(url).data == published


BILLION_LAUGHS = "questions: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 8))


def test_yaml_alias_bomb_is_refused_quickly(content_root):
    assert len(BILLION_LAUGHS.encode()) < 1024
    (content_root / "quizzes/field-basics/bomb.yaml").write_text(BILLION_LAUGHS)
    started = time.monotonic()
    problems = problems_of(content_root)
    assert time.monotonic() - started < 2
    assert ("quizzes/field-basics/bomb.yaml:1: YAML anchors and aliases ('&name', '*name') are "
            "not allowed: write each value out in full") in problems


def test_anchor_in_front_matter_is_refused(content_root):
    lesson = content_root / COURSE / "wrap-up.md"
    lesson.write_text(lesson.read_text().replace('sources: ["A fourth source, 2024."]',
                                                 'sources: &s ["A fourth source, 2024."]'))
    assert (f"{COURSE}/wrap-up.md:4: YAML anchors and aliases ('&name', '*name') are not "
            "allowed: write each value out in full") in problems_of(content_root)


def test_deeply_nested_yaml_is_a_problem_not_a_crash(content_root):
    (content_root / "quizzes/field-basics/deep.yaml").write_text(
        "questions: " + "[" * 5000 + "]" * 5000 + "\n")
    assert ("quizzes/field-basics/deep.yaml:1: YAML is nested more than 40 levels deep"
            in problems_of(content_root))


@pytest.mark.parametrize(("relative", "limit", "shown"), [
    ("courses/field-basics/wrap-up.md", MAX_TEXT_BYTES, "a text file is 1 MB"),
    ("quizzes/field-basics/bank.yaml", MAX_TEXT_BYTES, "a text file is 1 MB"),
    ("courses/field-basics/images/diagram.png", MAX_IMAGE_BYTES, "an image is 5 MB"),
])
def test_oversized_files_are_refused_unread(content_root, relative, limit, shown):
    path = content_root / relative
    with path.open("ab") as handle:
        handle.write(b"#" * (limit + 1 - path.stat().st_size))
    assert path.stat().st_size == limit + 1
    problems = problems_of(content_root)
    assert f"{relative}:1: file is too large ({limit + 1:,} bytes; the limit for {shown})" \
        in problems


CASE_DATA = {
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<":
        "looks like a passport machine-readable zone ('P<UTOERIKSSON<<A...')",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10":
        "looks like a passport machine-readable zone ('L898902C36UTO740...')",
    "The file was CASE-2024-000123 in the system.":
        "looks like a case reference number ('CASE-2024-000123')",
    "Crime ref: 12/34567/24": "looks like a case or crime reference ('Crime ref: 12/34567/24')",
    "Quote URN 01YE1234523 when you call.":
        "looks like a case or crime reference ('URN 01YE1234523')",
    "RESTRICTED": "carries the classification marking 'RESTRICTED'",
    "OFFICIAL-SENSITIVE: PERSONAL": "carries the classification marking 'OFFICIAL-SENSITIVE'",
    "OFFICIAL SENSITIVE": "carries the classification marking 'OFFICIAL SENSITIVE'",
    "Marked TOP SECRET at the top.": "carries the classification marking 'TOP SECRET'",
    "CONFIDENTIAL": "carries the classification marking 'CONFIDENTIAL'",
    "SECRET": "carries the classification marking 'SECRET'",
    "EU RESTRICTED": "carries the classification marking 'EU RESTRICTED'",
    "RESTREINT UE": "carries the classification marking 'RESTREINT UE'",
}


@pytest.mark.parametrize("text", CASE_DATA)
def test_case_data_is_a_warning_naming_the_line(content_root, text):
    line = append_line(content_root / COURSE / "wrap-up.md", text)
    catalogue = load_catalogue(content_root / "courses", content_root / "quizzes")
    (problem,) = catalogue.problems
    assert str(problem).startswith(f"{COURSE}/wrap-up.md:{line}: warning: {CASE_DATA[text]}")
    assert "training material must never carry real case data" in problem.message
    assert not catalogue.failed() and catalogue.failed(strict=True)
    assert len(catalogue.courses) == 1  # a warning does not stop publishing


def test_case_data_in_a_question_bank_names_its_line(content_root):
    bank = content_root / "quizzes/field-basics/bank.yaml"
    line = append_line(bank, "# Crime reference number 2024/88123")
    assert any(p.startswith(f"quizzes/field-basics/bank.yaml:{line}: warning: looks like a case")
               for p in problems_of(content_root))


@pytest.mark.parametrize("text", [
    "Keep the victim's details confidential.", "The JITs Network Secretariat.",
    "Directive (EU) 2024/1712 and Regulation (EU) 2016/679.", "Case 1: a false passport",
    "CETS No. 197, Article 26", "a restricted area", "URN:ISBN:0451450523",
])
def test_ordinary_prose_is_not_case_data(content_root, text):
    append_line(content_root / COURSE / "wrap-up.md", text)
    assert problems_of(content_root) == []


def test_strict_check_fails_on_case_data(runner, content_root):
    line = append_line(content_root / COURSE / "wrap-up.md", "OFFICIAL-SENSITIVE")
    relaxed = runner.invoke(args=["content", "check"])
    assert relaxed.exit_code == 0
    assert f"{COURSE}/wrap-up.md:{line}: warning: carries the classification marking" \
           in relaxed.output
    assert runner.invoke(args=["content", "check", "--strict"]).exit_code == 1


def test_author_pages_do_not_reparse_unchanged_files(client, synced, content_dirs, make_user,
                                                     login_as, monkeypatch):
    calls = []
    real = author_service.load_catalogue

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(author_service, "load_catalogue", counting)
    login_as(make_user("trainer"))
    assert client.get("/author/").status_code == 200
    assert client.get("/author/").status_code == 200
    assert client.get("/author/preview/field-basics/wrap-up/").status_code == 200
    assert len(calls) == 1

    append_line(content_dirs[0] / "field-basics/wrap-up.md", "A new closing line.")
    assert "A new closing line." in client.get(
        "/author/preview/field-basics/wrap-up/").get_data(as_text=True)
    assert client.get("/author/").status_code == 200
    assert len(calls) == 2


def test_published_course_is_untouched_by_a_refused_sync(app_ctx, content_root, secret_file):
    assert sync_catalogue(content_root / "courses", content_root / "quizzes").ok
    symlinked_image_to_secret(content_root, secret_file)
    report = sync_catalogue(content_root / "courses", content_root / "quizzes")
    assert report.failed == ["field-basics"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion)) == 1
    stored = db.session.scalars(sa.select(MediaAsset.data)).all()
    assert SECRET not in stored and db.session.scalar(sa.select(Course.slug)) == "field-basics"


def test_symlinked_course_md_is_reported_once(tmp_path, secret_file):
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    course_md = root / COURSE / "course.md"
    course_md.unlink()
    course_md.symlink_to(secret_file)
    assert problems_of(root) == [f"{COURSE}/course.md:1: {LINK}"]
