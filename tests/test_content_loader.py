"""The content layer on files with deliberate errors: every message with its path:line."""

from __future__ import annotations

import shutil
from pathlib import Path

from learning.content import load_catalogue
from tests.conftest import FIXTURE_CONTENT

GOOD_COURSE = """---
title: A course
summary: Short summary.
audience: [Officers]
objectives: [Do a thing.]
pass_mark: 80
sources: ["Source, 2026."]
modules:
  - title: Only module
    lessons: [intro]
review_every: null
---
Overview.
"""
GOOD_LESSON = """---
title: Intro
estimated_minutes: 5
sources: ["Source, 2026."]
reviewed: 2026-11-20
---
Body text.
"""


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def messages(root: Path, strict_warnings: bool = True) -> list[str]:
    catalogue = load_catalogue(root / "courses", root / "quizzes")
    return [str(p) for p in catalogue.problems
            if strict_warnings or p.severity == "error"]


def test_fixture_catalogue_is_valid():
    catalogue = load_catalogue(FIXTURE_CONTENT / "courses", FIXTURE_CONTENT / "quizzes")
    assert catalogue.problems == ()
    (course,) = catalogue.courses
    assert [lesson.slug for lesson in course.lessons] == [
        "first-steps", "second-steps", "hard-topics", "wrap-up"]
    assert course.estimated_minutes == 25  # summed from the lessons when not given
    assert course.lesson("hard-topics").content_warning.startswith("This lesson describes")
    assert course.module_of("wrap-up") == 1
    assert [a.path for a in course.assets] == ["images/diagram.png"]


def test_every_error_is_reported_at_once_with_its_line(tmp_path):
    course = """---
title: A course
summary: 12
audience: Officers
objectives: []
pass_mark: 120
certificate_validity_months: 0
langauge: en
prerequisites: [no-such-course, broken]
modules:
  - title: One
    lessons: [intro, intro, ghost]
---
See [nowhere](missing.md) and [other](../other-course/x.md).
![pic](images/none.png)
[bad](javascript:alert(1))
"""
    write(tmp_path, {"courses/broken/course.md": course,
                     "courses/broken/intro.md": GOOD_LESSON,
                     "courses/broken/orphan.md": GOOD_LESSON})
    found = messages(tmp_path)
    path = "courses/broken/course.md"
    expected = [
        f"{path}:3: 'summary' must be text",
        f"{path}:4: 'audience' must be a list of text items",
        f"{path}:5: 'objectives' must list at least one item",
        f"{path}:6: 'pass_mark' must be at most 100",
        f"{path}:7: 'certificate_validity_months' must be at least 1",
        f"{path}:8: unknown key 'langauge' (did you mean 'language'?)",
        f"{path}:9: prerequisite 'no-such-course' is not a course in this catalogue",
        f"{path}:9: a course cannot be its own prerequisite",
        f"{path}:12: lesson 'intro' is listed twice (first on line 12)",
        f"{path}:12: lesson 'ghost' has no file 'ghost.md'",
        f"{path}:14: broken link 'missing.md': course 'broken' has no lesson 'missing'",
        f"{path}:14: broken link '../other-course/x.md': no course 'other-course'",
        f"{path}:15: missing image 'images/none.png'",
        f"{path}:16: links with the scheme 'javascript:' are not allowed",
        "courses/broken/orphan.md:1: lesson 'orphan' is not listed in any module of course.md",
    ]
    for message in expected:
        assert message in found, f"missing: {message}\nfound:\n" + "\n".join(found)
    assert load_catalogue(tmp_path / "courses").courses == ()


def test_lesson_front_matter_errors(tmp_path):
    lesson = """---
title: Intro
estimated_minutes: five
content_warning: [not, text]
title: Again
colour: blue
---
"""
    write(tmp_path, {"courses/c/course.md": GOOD_COURSE, "courses/c/intro.md": lesson})
    found = messages(tmp_path)
    path = "courses/c/intro.md"
    assert f"{path}:3: 'estimated_minutes' must be a whole number, not 'five'" in found
    assert f"{path}:4: 'content_warning' must be text" in found
    assert f"{path}:5: duplicate key 'title'" in found
    assert f"{path}:6: unknown key 'colour'" in found
    assert f"{path}:2: warning: lesson lists no sources" in found
    assert f"{path}:8: lesson has no text" in found


def test_missing_required_keys_and_syntax_errors(tmp_path):
    write(tmp_path, {
        "courses/a/course.md": "---\ntitle: Only a title\n---\nBody\n",
        "courses/b/course.md": "---\ntitle: [unclosed\nsummary: x\n---\n",
        "courses/c/course.md": "No front matter here\n",
        "courses/d/course.md": "---\ntitle: never closed\n",
        "courses/e/intro.md": GOOD_LESSON,
    })
    found = messages(tmp_path)
    assert "courses/a/course.md:2: missing required key 'summary'" in found
    assert "courses/a/course.md:2: missing required key 'modules'" in found
    assert any(m.startswith("courses/b/course.md:3: YAML syntax error") for m in found)
    assert "courses/c/course.md:1: file must start with '---' and YAML front matter" in found
    assert "courses/d/course.md:1: front matter is not closed by a '---' line" in found
    assert "courses/e/course.md:1: course folder has no course.md" in found


def test_bad_names_encoding_and_unknown_callouts(tmp_path):
    lesson = GOOD_LESSON + "\n!!! danger \"Oops\"\n    text\n"
    write(tmp_path, {
        "courses/Bad_Name/course.md": GOOD_COURSE,
        "courses/Bad_Name/intro.md": GOOD_LESSON,
        "courses/c/course.md": GOOD_COURSE,
        "courses/c/intro.md": lesson,
        "courses/c/notes.txt": "stray",
        "courses/c/images/unused.png": b"\x89PNG fake",
        "courses/d/course.md": GOOD_COURSE,
        "courses/d/intro.md": b"---\ntitle: caf\xe9\n---\n",
    })
    found = messages(tmp_path)
    assert any("courses/Bad_Name:1: course folder name 'Bad_Name'" in m for m in found)
    assert any(m.startswith("courses/c/intro.md:9: warning: unknown callout 'danger'")
               for m in found)
    assert "courses/c/notes.txt:1: warning: unexpected file: a course folder holds course.md, " \
           "lesson .md files and images" in found
    assert "courses/c/images/unused.png:1: warning: image is not used by any lesson" in found
    assert "courses/d/intro.md:2: file is not valid UTF-8 text" in found
    catalogue = load_catalogue(tmp_path / "courses")
    # Warnings alone do not stop a course; errors do.
    assert [c.slug for c in catalogue.courses] == ["c"]
    assert catalogue.failed(strict=False)


def test_warnings_fail_only_in_strict_mode(tmp_path):
    write(tmp_path, {"courses/c/course.md": GOOD_COURSE,
                     "courses/c/intro.md": GOOD_LESSON.replace('sources: ["Source, 2026."]\n', '')})
    catalogue = load_catalogue(tmp_path / "courses")
    assert [p.severity for p in catalogue.problems] == ["warning"]
    assert not catalogue.failed(strict=False)
    assert catalogue.failed(strict=True)


def test_content_hash_is_stable_and_sensitive(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    first = load_catalogue(root / "courses", root / "quizzes").courses[0].content_hash
    assert load_catalogue(root / "courses", root / "quizzes").courses[0].content_hash == first
    lesson = root / "courses/field-basics/wrap-up.md"
    lesson.write_text(lesson.read_text().replace("last lesson", "final lesson"))
    assert load_catalogue(root / "courses", root / "quizzes").courses[0].content_hash != first
    # Windows line endings do not make a new version.
    lesson.write_text(lesson.read_text())
    second = load_catalogue(root / "courses", root / "quizzes").courses[0].content_hash
    lesson.write_bytes(lesson.read_bytes().replace(b"\n", b"\r\n"))
    assert load_catalogue(root / "courses", root / "quizzes").courses[0].content_hash == second


def test_quiz_files_are_part_of_the_version(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    before = load_catalogue(root / "courses", root / "quizzes").courses[0].content_hash
    write(root, {"quizzes/field-basics/bank.md": "questions\n"})
    after = load_catalogue(root / "courses", root / "quizzes").courses[0]
    assert after.content_hash != before
    assert ("quizzes/field-basics/bank.md", "questions\n") in after.files
