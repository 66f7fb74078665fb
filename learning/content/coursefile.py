"""Parse course.md and lesson files: their schemas, modules and completion rule."""

from __future__ import annotations

import hashlib

from learning.content.frontmatter import Document, LocatedDict, LocatedList, parse_document
from learning.content.model import Lesson, Module, Problem
from learning.content.quiz import QuizSet
from learning.content.schema import SLUG, Field, check, line_of

COURSE_SCHEMA = {
    "title": Field("text"),
    "summary": Field("text"),
    "audience": Field("text_list", non_empty=True),
    "objectives": Field("text_list", non_empty=True),
    "estimated_minutes": Field("int", required=False, minimum=1, maximum=6000),
    "pass_mark": Field("int", minimum=0, maximum=100),
    "certificate_validity_months": Field("int", required=False, minimum=1, maximum=240,
                                         nullable=True),
    "prerequisites": Field("text_list", required=False),
    "language": Field("language", required=False),
    "sources": Field("text_list", required=False),
    "modules": Field("mapping_list", non_empty=True),
    "completion": Field("mapping", required=False),
    "review_every": Field("int", required=False, minimum=1, maximum=120, nullable=True),
    "jurisdictions": Field("text_list", required=False),
    "stale_translations": Field("text", required=False),
}
COMPLETION_SCHEMA = {
    "lessons": Field("text", required=False),
    "assessment": Field("text", required=False, nullable=True),
}
COMPLETION_LESSONS = ("all", "none")
MODULE_SCHEMA = {
    "title": Field("text"),
    "lessons": Field("text_list", non_empty=True),
}
LESSON_SCHEMA = {
    "title": Field("text"),
    "estimated_minutes": Field("int", minimum=1, maximum=600),
    "objectives": Field("text_list", required=False),
    "sources": Field("text_list", required=False),
    "content_warning": Field("text", required=False),
    "recertification": Field("bool", required=False),
    "check": Field("text", required=False),
    "reviewed": Field("date", required=False),
    "review_every": Field("int", required=False, minimum=1, maximum=120),
}
RESERVED_LESSON_SLUGS = {"assessments", "media", "course", "readme"}


def decode(data: bytes, path: str, problems: list[Problem]) -> str | None:
    """The text of a file as UTF-8 with Unix line ends; None (and a problem) if it is not."""
    try:
        return data.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(path, line, "file is not valid UTF-8 text"))
        return None


def parse_modules(raw: LocatedList, path: str, lesson_files: dict[str, str],
                  problems: list[Problem]) -> tuple[Module, ...]:
    """The modules listed in course.md; every lesson file must be listed exactly once."""
    modules: list[Module] = []
    seen: dict[str, int] = {}
    for item in raw:
        values = check(item, MODULE_SCHEMA, path, problems)
        if "title" not in values or "lessons" not in values:
            continue
        slugs: list[str] = []
        lessons: LocatedList = values["lessons"]
        for slug, line in zip(lessons, lessons.item_lines, strict=True):
            if slug in seen:
                problems.append(Problem(path, line, f"lesson '{slug}' is listed twice "
                                                    f"(first on line {seen[slug]})"))
                continue
            seen[slug] = line
            if slug not in lesson_files:
                problems.append(Problem(path, line, f"lesson '{slug}' has no file '{slug}.md'"))
                continue
            slugs.append(slug)
        modules.append(Module(values["title"].strip(), tuple(slugs)))
    for slug, file_path in lesson_files.items():
        if slug not in seen:
            problems.append(Problem(file_path, 1, f"lesson '{slug}' is not listed in any module "
                                                  "of course.md"))
    return tuple(modules)



def load_lesson(slug: str, rel_path: str, data: bytes,
                problems: list[Problem]) -> tuple[Lesson | None, Document | None]:
    """Parse and validate one lesson file: the lesson (None if unusable) and its document."""
    text = decode(data, rel_path, problems)
    if text is None:
        return None, None
    doc = parse_document(text, rel_path, problems)
    if doc.meta is None:
        return None, doc
    values = check(doc.meta, LESSON_SCHEMA, rel_path, problems)
    if not SLUG.match(slug) or slug in RESERVED_LESSON_SLUGS:
        problems.append(Problem(rel_path, 1, f"lesson file name '{slug}.md' must be lower-case "
                                "words joined by hyphens and not a reserved name"))
    if not values.get("sources"):
        problems.append(Problem(rel_path, line_of(doc.meta, "sources"),
                                "lesson lists no sources", "warning"))
    if not doc.body.strip():
        problems.append(Problem(rel_path, doc.body_line, "lesson has no text"))
    if "title" not in values or "estimated_minutes" not in values:
        return None, doc
    lesson = Lesson(
        slug=slug,
        path=rel_path,
        title=values["title"].strip(),
        estimated_minutes=values["estimated_minutes"],
        objectives=tuple(values.get("objectives", ())),
        sources=tuple(values.get("sources", ())),
        content_warning=(values.get("content_warning") or "").strip() or None,
        body=doc.body,
        body_line=doc.body_line,
        content_hash=hashlib.sha256(data).hexdigest(),
        recertification=values.get("recertification", False),
        check=values.get("check"),
        reviewed=values.get("reviewed"), review_every=values.get("review_every"),
        reviewed_line=line_of(doc.meta, "reviewed"),
    )
    return lesson, doc



def check_course_meta(meta: LocatedDict, values: dict, slug: str, path: str,
                      lesson_index: dict[str, set[str]], problems: list[Problem]) -> None:
    """Check course.md's prerequisites (courses of this catalogue) and sources."""
    prerequisites: LocatedList | None = values.get("prerequisites")
    if prerequisites:
        for prerequisite, line in zip(prerequisites, prerequisites.item_lines, strict=True):
            if prerequisite == slug:
                problems.append(Problem(path, line, "a course cannot be its own prerequisite"))
            elif prerequisite not in lesson_index:
                problems.append(Problem(path, line, f"prerequisite '{prerequisite}' is not a "
                                                    "course in this catalogue"))
    if "sources" not in values:
        problems.append(Problem(path, line_of(meta, "sources"), "course lists no sources",
                                "warning"))


def completion_rule(meta: LocatedDict | None, values: dict, quizzes: QuizSet, path: str,
                    problems: list[Problem]) -> tuple[str, str | None]:
    """(lessons rule, assessment slug): by default every lesson and the final assessment."""
    finals = [a.slug for a in quizzes.assessments if a.final]
    if len(finals) > 1:
        problems.append(Problem(path, 1, "a course has at most one final assessment; found "
                                         + ", ".join(finals)))
    default = finals[0] if finals else None
    raw = values.get("completion")
    if raw is None:
        return "all", default
    rule = check(raw, COMPLETION_SCHEMA, path, problems)
    lessons = rule.get("lessons", "all")
    if lessons not in COMPLETION_LESSONS:
        problems.append(Problem(path, line_of(raw, "lessons"), "'lessons' must be 'all' "
                                "(every lesson marked complete) or 'none'"))
    assessment = rule.get("assessment", default)
    if "assessment" in raw and assessment is not None:
        found = quizzes.assessment(assessment)
        if found is None or not found.final:
            problems.append(Problem(path, line_of(raw, "assessment"), f"'assessment: "
                                    f"{assessment}' must name the course's final assessment"))
    if lessons == "none" and assessment is None:
        problems.append(Problem(path, raw.line, "the completion rule needs lessons, an "
                                                "assessment, or both"))
    return lessons, assessment

