"""Starting texts for new courses, lessons, banks and assessments that pass ``content check``.

Plain text in the file formats (see courses/README.md and quizzes/README.md), so a trainer
sees exactly what the files hold and replaces the placeholders.
"""

from __future__ import annotations

import re
from datetime import date


def _yaml_text(text: str) -> str:
    """A one-line YAML string, quoted so any title is read back as the same text."""
    cleaned = " ".join(text.split())[:200]
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def course_files(slug: str, title: str, today: date) -> dict[str, str]:
    """course.md and one first lesson of a new course."""
    course = (
        "---\n"
        f"title: {_yaml_text(title)}\n"
        "summary: What officers will be able to do after this course.\n"
        "audience: [Border officers]\n"
        "objectives:\n"
        "  - Replace this with what officers learn.\n"
        "pass_mark: 80\n"
        "certificate_validity_months: 24\n"
        "sources:\n"
        "  - \"Replace with the law or guidance this course rests on.\"\n"
        "modules:\n"
        "  - title: First module\n"
        "    lessons: [introduction]\n"
        "---\n"
        "An overview: who this course is for and what it covers. "
        "Start with [the introduction](introduction.md).\n"
    )
    return {f"courses/{slug}/course.md": course,
            f"courses/{slug}/introduction.md": lesson_text("Introduction", today)}


def lesson_text(title: str, today: date) -> str:
    """A new lesson with every front-matter field a reviewer looks for."""
    return (
        "---\n"
        f"title: {_yaml_text(title)}\n"
        "estimated_minutes: 5\n"
        "objectives: [Replace with what the officer can do after this lesson.]\n"
        "sources: [\"Replace with the law or guidance this lesson rests on.\"]\n"
        f"reviewed: {today.isoformat()}\n"
        "---\n"
        "## What this lesson covers\n\n"
        "Write the lesson here, in Markdown.\n"
    )


def bank_text(course_slug: str, name: str) -> str:
    """A question bank with one true/false item and one single-choice item."""
    tag = f"{course_slug}/{name}"
    return (
        "questions:\n"
        f"  - id: {name}-first\n"
        "    kind: true_false\n"
        f"    tags: [{tag}]\n"
        "    prompt: Replace with a statement officers judge true or false.\n"
        "    answer: true\n"
        "    explanation: Why the statement is true.\n"
        "    sources: [\"Replace with the source.\"]\n"
        f"  - id: {name}-second\n"
        "    kind: single\n"
        f"    tags: [{tag}]\n"
        "    prompt: What do you do first?\n"
        "    options:\n"
        "      - {text: Speak to the traveller alone, correct: true}\n"
        "      - {text: Speak to the traveller with the companion}\n"
        "      - {text: Let the companion answer for the traveller}\n"
        "    explanation: Replace with why the key is right.\n"
        "    sources: [\"Replace with the source.\"]\n"
    )


def assessment_files(course_slug: str, name: str) -> dict[str, str]:
    """A knowledge check and the bank it draws from (an assessment needs questions)."""
    bank = f"{name}-questions"
    check = (
        "assessment:\n"
        "  title: Check your understanding\n"
        "  review: answers\n"
        "  draw:\n"
        f"    - {{tag: {course_slug}/{bank}, count: 2}}\n"
    )
    return {f"quizzes/{course_slug}/{name}.yaml": check,
            f"quizzes/{course_slug}/{bank}.yaml": bank_text(course_slug, bank)}


def add_lesson_to_course(course_md: str, lesson_slug: str, module_title: str) -> str:
    """course.md with a new module holding the lesson appended to ``modules:``.

    Only the front matter's text is touched (comments and layout stay); when ``modules:``
    cannot be found the text comes back unchanged and the check says what to add.
    """
    lines = course_md.split("\n")
    if not lines or lines[0].strip() != "---":
        return course_md
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    start = next((i for i in range(1, end or 0) if re.match(r"modules:\s*(#.*)?$", lines[i])),
                 None)
    if end is None or start is None:
        return course_md
    stop = start + 1
    indent = "  "
    while stop < end and (not lines[stop].strip() or lines[stop][:1] in (" ", "-")):
        if lines[stop].lstrip().startswith("- ") and stop == start + 1:
            indent = lines[stop][: len(lines[stop]) - len(lines[stop].lstrip())]
        stop += 1
    while stop > start + 1 and not lines[stop - 1].strip():
        stop -= 1
    block = [f"{indent}- title: {_yaml_text(module_title)}",
             f"{indent}  lessons: [{lesson_slug}]"]
    return "\n".join(lines[:stop] + block + lines[stop:])
