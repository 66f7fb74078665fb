"""Version history: list, diff of any two, and rollback as a new version (never a rewrite)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.audit.models import AuditEntry
from learning.author.ownership import grant
from learning.catalogue import versions
from learning.catalogue.models import Course, CourseVersion, Lesson
from learning.catalogue.service import sync_catalogue
from learning.extensions import db
from tests.conftest import FIXTURE_CONTENT

LESSON = "courses/field-basics/first-steps.md"
ADDED = "An added line with <script>alert(1)</script> in it."


@pytest.fixture
def content_dirs(tmp_path) -> tuple[Path, Path]:
    """A writable copy of the fixture catalogue, so a test can publish a second version."""
    shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    return tmp_path / "content" / "courses", tmp_path / "content" / "quizzes"


@pytest.fixture
def two_versions(synced, content_dirs) -> Course:
    """Version 1 as shipped; version 2 adds a line to a lesson and an image."""
    courses = content_dirs[0]
    lesson = courses / "field-basics" / "first-steps.md"
    lesson.write_text(lesson.read_text() + f"\n{ADDED}\n")
    shutil.copy(courses / "field-basics/images/diagram.png",
                courses / "field-basics/images/extra.png")
    report = sync_catalogue(*content_dirs)
    assert report.created == [("field-basics", 2)], report
    return db.session.scalar(sa.select(Course))


def numbered(course: Course, number: int) -> CourseVersion:
    return versions.version_by_number(course, number)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def trainer(make_user, login_as):
    user = make_user("trainer")
    grant("field-basics", user.email, "editor", None)  # an editor of the course
    db.session.commit()
    login_as(user)
    return user


def test_history_lists_every_version_with_links(client, two_versions, trainer):
    page = client.get("/author/courses/field-basics/versions/").get_data(as_text=True)
    for number in (1, 2):
        version = numbered(two_versions, number)
        assert version.short_hash in page
        assert f"/author/courses/field-basics/versions/{number}.zip" in page
    assert "/author/courses/field-basics/versions/1/rollback" in page
    assert "/author/courses/field-basics/versions/2/rollback" not in page  # 2 is current
    assert "/author/courses/field-basics/versions/diff?from=1&amp;to=2" in page
    assert page.index(numbered(two_versions, 2).short_hash) < \
        page.index(numbered(two_versions, 1).short_hash)  # newest first


def test_diff_marks_lines_with_classes_and_escapes_them(client, two_versions, trainer):
    response = client.get("/author/courses/field-basics/versions/diff?from=1&to=2")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert LESSON in page and "images/extra.png" in page
    assert '<span class="diff-add"><span class="diff-mark" aria-label="added">+</span>' \
           "An added line with &lt;script&gt;alert(1)&lt;/script&gt; in it.</span>" in page
    assert "<script>alert(1)" not in page
    backwards = client.get("/author/courses/field-basics/versions/diff?from=2&to=1")
    assert 'class="diff-remove"' in backwards.get_data(as_text=True)


def test_diff_of_any_two_lists_files_and_images(two_versions):
    diff = versions.diff_versions(numbered(two_versions, 1), numbered(two_versions, 2))
    assert [(f.path, f.status) for f in diff.files] == [(LESSON, "changed")]
    assert ("add", ADDED) in diff.files[0].lines
    assert diff.assets_added == ["images/extra.png"] and not diff.assets_removed
    same = versions.diff_versions(numbered(two_versions, 2), numbered(two_versions, 2))
    assert same.unchanged


def test_a_long_diff_is_capped_with_a_note(client, two_versions, trainer, monkeypatch):
    monkeypatch.setattr(versions, "MAX_DIFF_LINES", 2)
    page = client.get("/author/courses/field-basics/versions/diff?from=1&to=2"
                      ).get_data(as_text=True)
    assert "only its first 2 lines are shown" in page
    assert page.count('<span class="diff-') <= 2 + 2  # two lines, each with its own mark


@pytest.mark.parametrize("query, status", [("from=1", 400), ("from=x&to=2", 400),
                                           ("from=%D9%A1&to=2", 400), ("from=1&to=9", 404),
                                           ("from=0&to=1", 400)])
def test_bad_diff_arguments_are_4xx(client, two_versions, trainer, query, status):
    assert client.get(f"/author/courses/field-basics/versions/diff?{query}").status_code == \
        status


def test_rollback_asks_first_naming_what_changes(client, two_versions, trainer):
    page = client.get("/author/courses/field-basics/versions/1/rollback").get_data(as_text=True)
    assert "as a new version 3" in page and LESSON in page and "images/extra.png" in page
    assert 'class="diff-remove"' in page  # the added line goes away again
    assert count(CourseVersion) == 2


def test_rollback_publishes_the_old_content_as_a_new_version(client, two_versions, trainer):
    old, replaced = numbered(two_versions, 1), numbered(two_versions, 2)
    old_files, replaced_hash = dict(old.files), replaced.content_hash
    response = client.post("/author/courses/field-basics/versions/1/rollback")
    assert response.status_code == 303
    db.session.expire_all()
    course = db.session.scalar(sa.select(Course))
    current = course.current_version
    assert current.number == 3 and count(CourseVersion) == 3
    assert current.content_hash == old.content_hash and current.files == old_files
    assert current.assets == old.assets
    assert current.origin == "rollback" and current.published_by == trainer.id
    assert current.based_on_hash == replaced_hash
    assert numbered(course, 1).files == old_files  # history untouched
    assert numbered(course, 2).content_hash == replaced_hash
    lessons = db.session.scalars(sa.select(Lesson.slug).where(Lesson.version_id == current.id)
                                 .order_by(Lesson.position)).all()
    assert lessons == db.session.scalars(sa.select(Lesson.slug).where(
        Lesson.version_id == old.id).order_by(Lesson.position)).all()
    lesson_page = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    assert "An added line" not in lesson_page
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "course.rollback"))
    assert entry.target == "field-basics" and entry.actor_id == trainer.id
    assert entry.details["version"] == 3 and entry.details["content_of"] == 1
    assert entry.details["replaced"] == 2
    history = client.get("/author/courses/field-basics/versions/").get_data(as_text=True)
    assert "rollback" in history and trainer.display_name in history


def test_rolling_back_the_current_version_is_409_and_changes_nothing(client, two_versions,
                                                                      trainer):
    response = client.post("/author/courses/field-basics/versions/2/rollback")
    assert response.status_code == 409
    assert count(CourseVersion) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "course.rollback")) == 0


def test_sync_after_a_rollback_keeps_the_rollback_current(two_versions, make_user,
                                                          content_dirs):
    """The files of version 1 are now also version 3: sync says unchanged, not "switch to 1"."""
    versions.rollback(make_user("admin"), two_versions, numbered(two_versions, 1))
    db.session.commit()
    shutil.rmtree(content_dirs[0].parent)
    shutil.copytree(FIXTURE_CONTENT, content_dirs[0].parent)
    report = sync_catalogue(*content_dirs)
    assert report.unchanged == ["field-basics"] and not report.switched
    assert db.session.scalar(sa.select(Course)).current_version.number == 3


@pytest.mark.parametrize("role", ["officer", "manager"])
def test_officers_and_managers_are_refused(client, two_versions, make_user, login_as, agency,
                                           role):
    login_as(make_user(role, agency=agency))
    base = "/author/courses/field-basics/versions/"
    for path in (base, f"{base}diff?from=1&to=2", f"{base}1.zip", f"{base}1/rollback"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"{base}1/rollback").status_code == 403
    assert count(CourseVersion) == 2


def test_unknown_course_or_version_is_404(client, two_versions, trainer):
    assert client.get("/author/courses/nope/versions/").status_code == 404
    assert client.get("/author/courses/field-basics/versions/7.zip").status_code == 404
    assert client.post("/author/courses/field-basics/versions/7/rollback").status_code == 404
    assert count(CourseVersion) == 2


def test_download_is_the_versions_zip(client, two_versions, trainer):
    response = client.get("/author/courses/field-basics/versions/1.zip")
    version = numbered(two_versions, 1)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.data == versions.export_zip(version)
    assert f'filename="field-basics-v1-{version.short_hash}.zip"' in \
        response.headers["Content-Disposition"]


def test_only_owners_editors_and_admins_roll_back(client, two_versions, make_user, login_as):
    login_as(make_user("trainer"))  # a trainer who is not a member of the course
    assert client.get("/author/courses/field-basics/versions/1/rollback").status_code == 403
    assert client.post("/author/courses/field-basics/versions/1/rollback").status_code == 403
