"""What changed between two versions of a course's lessons: pure functions, no database."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

KINDS = ("added", "changed", "removed", "moved")
SIGNIFICANCE = ("editorial", "substantive")
MAX_PASSAGES = 12  # shown to an officer: enough to find the change, never the whole lesson
MAX_PASSAGE_CHARS = 1200


@dataclass(frozen=True)
class LessonChange:
    """One lesson that differs from the current version, with its Markdown diff."""

    slug: str
    title: str
    kind: str  # added | changed | removed | moved
    diff: str = ""  # unified diff of the lesson file
    passages: list[str] = field(default_factory=list)  # changed paragraphs of the new text


@dataclass(frozen=True)
class LessonState:
    """What comparison needs to know about one lesson of one version."""

    slug: str
    title: str
    content_hash: str
    module_title: str
    text: str  # the whole lesson file


def body_of(text: str) -> str:
    """The Markdown body of a lesson file, without its YAML front matter."""
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":
        for index in range(1, len(lines)):
            if lines[index].strip() in ("---", "..."):
                return "\n".join(lines[index + 1:])
    return text


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks of a Markdown body, stripped, empty ones dropped."""
    blocks, current = [], []
    for line in text.splitlines():
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append("\n".join(current).strip())
            current = []
    if current:
        blocks.append("\n".join(current).strip())
    return blocks


def changed_passages(old_text: str, new_text: str) -> list[str]:
    """Paragraphs of the new body that were not in the old one, in reading order."""
    old = set(paragraphs(body_of(old_text)))
    found = [block for block in paragraphs(body_of(new_text)) if block not in old]
    return [block[:MAX_PASSAGE_CHARS] for block in found[:MAX_PASSAGES]]


def unified_diff(old_text: str, new_text: str, path: str) -> str:
    """A unified diff of two lesson files (empty when they are equal)."""
    return "".join(difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}"))


def compare_lessons(old: Sequence[LessonState], new: Sequence[LessonState],
                    path_of: Mapping[str, str]) -> list[LessonChange]:
    """Changes from ``old`` to ``new`` (both in reading order), new reading order first.

    A lesson whose text is equal but whose module or place among the lessons both
    versions share differs is "moved"; moving never asks anyone to re-read.
    """
    before = {lesson.slug: lesson for lesson in old}
    after = {lesson.slug: lesson for lesson in new}
    shared_before = [lesson.slug for lesson in old if lesson.slug in after]
    shared_after = [lesson.slug for lesson in new if lesson.slug in before]
    changes = []
    for lesson in new:
        path = path_of.get(lesson.slug, f"{lesson.slug}.md")
        previous = before.get(lesson.slug)
        if previous is None:
            changes.append(LessonChange(lesson.slug, lesson.title, "added",
                                        unified_diff("", lesson.text, path),
                                        paragraphs(body_of(lesson.text))[:MAX_PASSAGES]))
        elif previous.content_hash != lesson.content_hash:
            changes.append(LessonChange(lesson.slug, lesson.title, "changed",
                                        unified_diff(previous.text, lesson.text, path),
                                        changed_passages(previous.text, lesson.text)))
        elif (previous.module_title != lesson.module_title
              or shared_before.index(lesson.slug) != shared_after.index(lesson.slug)):
            changes.append(LessonChange(lesson.slug, lesson.title, "moved"))
    for lesson in old:
        if lesson.slug not in after:
            path = path_of.get(lesson.slug, f"{lesson.slug}.md")
            changes.append(LessonChange(lesson.slug, lesson.title, "removed",
                                        unified_diff(lesson.text, "", path)))
    return changes
