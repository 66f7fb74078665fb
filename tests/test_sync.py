"""Publishing course files: idempotent, versioned, all or nothing per course."""

import shutil

import pytest
import sqlalchemy as sa

from learning.catalogue.models import Course, CourseVersion, Lesson, MediaAsset
from learning.catalogue.pages import lesson_page
from learning.catalogue.service import export_version, sync_catalogue
from learning.content import load_catalogue
from learning.extensions import db
from tests.conftest import FIXTURE_CONTENT


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    return root


def counts():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (Course, CourseVersion, Lesson, MediaAsset))


def test_sync_twice_creates_nothing_new(app_ctx, content):
    first = sync_catalogue(content / "courses", content / "quizzes")
    assert first.created == [("field-basics", 1)]
    assert counts() == (1, 1, 4, 1)
    second = sync_catalogue(content / "courses", content / "quizzes")
    assert second.created == [] and second.unchanged == ["field-basics"]
    assert counts() == (1, 1, 4, 1)


def test_changed_course_gets_new_version_and_history_is_kept(app_ctx, content):
    sync_catalogue(content / "courses", content / "quizzes")
    old = lesson_page("field-basics", "wrap-up").lesson
    old_html, old_version_id = old.html, old.version_id
    lesson = content / "courses/field-basics/wrap-up.md"
    lesson.write_text(lesson.read_text().replace("The last lesson.", "The final lesson."))

    report = sync_catalogue(content / "courses", content / "quizzes")
    assert report.created == [("field-basics", 2)]
    assert counts() == (1, 2, 8, 1)  # the image is stored once for both versions
    page = lesson_page("field-basics", "wrap-up")
    assert page.version_number == 2 and "The final lesson." in page.lesson.html
    kept = db.session.get(Lesson, old.id)
    assert kept.version_id == old_version_id and kept.html == old_html

    # Reverting the files makes version 1 current again instead of a third version.
    lesson.write_text(lesson.read_text().replace("The final lesson.", "The last lesson."))
    report = sync_catalogue(content / "courses", content / "quizzes")
    assert report.switched == [("field-basics", 1)]
    assert lesson_page("field-basics", "wrap-up").version_number == 1
    assert counts() == (1, 2, 8, 1)


def test_a_broken_course_is_not_half_imported(app_ctx, content):
    sync_catalogue(content / "courses", content / "quizzes")
    shutil.copytree(content / "courses/field-basics", content / "courses/second-course")
    shutil.copytree(content / "quizzes/field-basics", content / "quizzes/second-course")
    broken = content / "courses/field-basics/second-steps.md"
    broken.write_text(broken.read_text().replace("estimated_minutes: 7", "estimated_minutes: x"))
    (content / "courses/field-basics/wrap-up.md").write_text(
        (content / "courses/field-basics/wrap-up.md").read_text() + "\nA change.\n")

    report = sync_catalogue(content / "courses", content / "quizzes")
    assert report.failed == ["field-basics"] and not report.ok
    assert report.created == [("second-course", 1)]
    assert any(str(p).startswith("courses/field-basics/second-steps.md:3:")
               for p in report.problems)
    # The good change in wrap-up.md was not published either: the course stays on version 1.
    page = lesson_page("field-basics", "wrap-up")
    assert page.version_number == 1 and "A change." not in page.lesson.html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion)
                             .where(CourseVersion.course_id == page.course_id)) == 1


def test_export_then_import_gives_the_same_version(app_ctx, content, tmp_path):
    sync_catalogue(content / "courses", content / "quizzes")
    bank = content / "quizzes/field-basics/bank.yaml"
    bank.write_text(bank.read_text().replace("Wave them through.", "Let them pass."))
    sync_catalogue(content / "courses", content / "quizzes")
    version = db.session.scalar(sa.select(CourseVersion).where(CourseVersion.number == 2))

    out = tmp_path / "exported"
    export_version(version, out)
    reloaded = load_catalogue(out / "courses", out / "quizzes").courses[0]
    assert reloaded.content_hash == version.content_hash
    assert (out / "courses/field-basics/images/diagram.png").read_bytes() == \
        (content / "courses/field-basics/images/diagram.png").read_bytes()


def test_content_cli_check_sync_and_export(runner, app_ctx, tmp_path):
    result = runner.invoke(args=["content", "check", "--strict"])
    assert result.exit_code == 0, result.output
    assert "1 courses checked: 0 errors, 0 warnings." in result.output
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0 and "field-basics: published version 1" in result.output
    result = runner.invoke(args=["content", "sync"])
    assert "field-basics: unchanged" in result.output
    result = runner.invoke(args=["content", "export", "field-basics", "--out", str(tmp_path)])
    assert result.exit_code == 0 and "version 1" in result.output
    assert (tmp_path / "courses/field-basics/course.md").exists()
    result = runner.invoke(args=["content", "export", "nope", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "No course 'nope'" in result.output


def test_content_check_fails_with_path_and_line(app, tmp_path):
    bad = tmp_path / "courses/bad"
    bad.mkdir(parents=True)
    (bad / "course.md").write_text("---\ntitle: Bad\n---\n")
    app.config["COURSES_DIR"] = str(tmp_path / "courses")
    result = app.test_cli_runner().invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "courses/bad/course.md:2: missing required key 'summary'" in result.output
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 1 and "bad: NOT imported" in result.output
