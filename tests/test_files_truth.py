"""Files and browser, one truth: sync publishes only files based on the latest version."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.catalogue.models import Course, CourseVersion, Lesson
from learning.catalogue.publishing import check_base, publish_course
from learning.catalogue.service import MARKER, sync_catalogue
from learning.content import load_catalogue
from learning.extensions import db
from tests.conftest import FIXTURE_CONTENT

WRAP_UP = "courses/field-basics/wrap-up.md"


@pytest.fixture
def content(tmp_path, app, app_ctx):
    """A copy of the fixture content that ``flask content`` reads, published as version 1."""
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    app.config.update(COURSES_DIR=str(root / "courses"), QUIZZES_DIR=str(root / "quizzes"))
    assert sync_catalogue(root / "courses", root / "quizzes").created == [("field-basics", 1)]
    return root


def edit(root: Path, old: str, new: str, relative: str = WRAP_UP) -> None:
    path = root / relative
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))


def files_of(root: Path):
    (course,) = load_catalogue(root / "courses", root / "quizzes").courses
    return course


def current() -> CourseVersion:
    db.session.expire_all()
    course = db.session.scalar(sa.select(Course).where(Course.slug == "field-basics"))
    return db.session.get(CourseVersion, course.current_version_id)


def version_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion))


@pytest.fixture
def browser_v2(app_ctx, content, tmp_path, make_user):
    """Version 2, published in the browser by a trainer, from an edited copy."""
    trainer = make_user("trainer", name="Tess Trainer")
    other = tmp_path / "browser"
    shutil.copytree(content, other)
    edit(other, "The last lesson.", "The browser's last lesson.")
    version, outcome = publish_course(files_of(other), origin="browser", actor=trainer)
    db.session.commit()
    assert (version.number, outcome, version.origin) == (2, "created", "browser")
    assert version.published_by == trainer.id and version.based_on_hash == current_hash_v1()
    return version


def current_hash_v1() -> str:
    return db.session.scalar(sa.select(CourseVersion.content_hash)
                             .where(CourseVersion.number == 1))


def test_sync_refuses_files_older_than_a_browser_version_and_names_it(
        runner, content, browser_v2):
    expected = (f"field-basics: version 2 (published in the browser on "
                f"{browser_v2.created_at.date().isoformat()} by Tess Trainer) is newer than these "
                "files; run `flask content export field-basics --out DIR` and edit those")
    # Unchanged files equal version 1: they must not silently switch back to it.
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 1 and expected in result.output
    assert current().number == 2 and version_count() == 2
    # Edited files (no marker) are refused the same way: the browser's edit is not lost.
    edit(content, "The last lesson.", "The files' last lesson.")
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 1 and expected in result.output
    assert current().number == 2 and version_count() == 2
    # make run's sync reports it and carries on.
    result = runner.invoke(args=["content", "sync", "--skip-newer"])
    assert result.exit_code == 0 and expected in result.output
    assert current().number == 2


def test_export_then_edit_then_sync_is_accepted(runner, content, browser_v2, tmp_path):
    out = tmp_path / "exported"
    result = runner.invoke(args=["content", "export", "field-basics", "--out", str(out)])
    assert result.exit_code == 0, result.output
    marker = out / "courses/field-basics" / MARKER
    assert marker.read_text().strip() == browser_v2.content_hash
    check = load_catalogue(out / "courses", out / "quizzes")
    assert check.problems == () and check.courses[0].content_hash == browser_v2.content_hash

    edit(out, "The browser's last lesson.", "The browser's last lesson, edited in files.")
    report = sync_catalogue(out / "courses", out / "quizzes")
    assert report.ok and report.created == [("field-basics", 3)]
    v3 = current()
    assert (v3.origin, v3.based_on_hash) == ("files", browser_v2.content_hash)
    assert "edited in files" in v3.files[WRAP_UP]
    assert marker.read_text().strip() == v3.content_hash  # the files are now based on v3
    again = sync_catalogue(out / "courses", out / "quizzes")
    assert again.ok and again.unchanged == ["field-basics"] and version_count() == 3


def test_an_export_of_an_older_version_is_refused(runner, content, browser_v2, tmp_path):
    out = tmp_path / "old"
    assert runner.invoke(args=["content", "export", "field-basics", "--version", "1",
                               "--out", str(out)]).exit_code == 0
    edit(out, "The last lesson.", "An edit of an old version.")
    report = sync_catalogue(out / "courses", out / "quizzes")
    (refusal,) = report.refused
    assert not report.ok and refusal[1].startswith("field-basics: version 2 (published in the "
                                                   "browser on ")
    assert current().number == 2 and version_count() == 2


def test_a_browser_draft_based_on_an_older_version_is_refused(app_ctx, content):
    """The other direction: files published a newer version than the browser's draft."""
    v1 = current()
    edit(content, "The last lesson.", "A newer lesson from files.")
    assert sync_catalogue(content / "courses", content / "quizzes").created == [
        ("field-basics", 2)]
    draft = files_of(content)  # stands in for a draft edited from version 1
    check = check_base("field-basics", draft, v1.content_hash)
    assert check.ok  # equal to the current version: nothing to lose
    edit(content, "A newer lesson from files.", "The draft's text.")
    check = check_base("field-basics", files_of(content), v1.content_hash)
    assert not check.ok and check.current.number == 2
    assert check.message.startswith("field-basics: version 2 (published from other files on ")
    assert check_base("field-basics", files_of(content), current().content_hash).ok


def test_the_shipped_catalogue_flow_still_works(runner, content):
    """No marker and a current version from files: pull, sync; re-running changes nothing."""
    edit(content, "The last lesson.", "The last lesson, revised.")
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0 and "field-basics: published version 2" in result.output
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0 and "field-basics: unchanged" in result.output
    assert not (content / "courses/field-basics" / MARKER).exists()


def test_plan_prints_the_impact_and_publishes_nothing(runner, content):
    edit(content, "The last lesson.", "The final lesson.")
    result = runner.invoke(args=["content", "sync", "--plan"])
    assert result.exit_code == 0, result.output
    assert "field-basics: compared with version 1" in result.output
    assert "changed wrap-up: 0 officers would re-read it if substantive" in result.output
    assert "+The final lesson." in result.output and "0 valid certificates" in result.output
    assert version_count() == 1


def test_cli_choices_reach_the_published_version(runner, content):
    edit(content, "The last lesson.", "The lsat lesson.")
    edit(content, "---\n", "---\n# revised\n", "courses/field-basics/first-steps.md")
    result = runner.invoke(args=["content", "sync", "--editorial", "field-basics/wrap-up",
                                 "--note", "field-basics/first-steps=Now names the duty."])
    assert result.exit_code == 0, result.output
    version = current()
    assert version.significance == {"first-steps": "substantive", "wrap-up": "editorial"}
    notes = dict(db.session.execute(sa.select(Lesson.slug, Lesson.change_note)
                                    .where(Lesson.version_id == version.id)).all())
    assert notes["first-steps"] == "Now names the duty." and notes["wrap-up"] is None


@pytest.mark.parametrize("args", [
    ["--editorial", "field-basics/first-steps"],  # a lesson that did not change
    ["--editorial", "field-basics"],  # not COURSE/LESSON
    ["--note", "field-basics/wrap-up"],  # no text
])
def test_bad_choices_change_nothing(runner, content, args):
    edit(content, "The last lesson.", "The lsat lesson.")
    result = runner.invoke(args=["content", "sync", *args])
    assert result.exit_code != 0
    assert version_count() == 1


def test_a_marker_that_is_a_link_is_refused(app_ctx, content, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text(current().content_hash + "\n")
    os.symlink(target, content / "courses/field-basics" / MARKER)
    edit(content, "The last lesson.", "Changed.")
    report = sync_catalogue(content / "courses", content / "quizzes")
    (refusal,) = report.refused
    assert "cannot be read" in refusal[1] and version_count() == 1
