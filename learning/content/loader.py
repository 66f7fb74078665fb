"""Load course folders into ``Course`` objects, reporting every problem at once."""

from __future__ import annotations

import hashlib
import re
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from learning.content.casedata import find_case_data
from learning.content.coursechecks import check_course_quality
from learning.content.frontmatter import Document, LocatedDict, LocatedList, parse_document
from learning.content.jurisdictions import check_codes, find_variants
from learning.content.links import IMAGE_EXTENSIONS, classify, find_links
from learning.content.model import DEFAULT_REVIEW_MONTHS, Asset, Course, Lesson, Module, Problem
from learning.content.quiz import QuizSet, load_quizzes
from learning.content.safety import check_entry, is_image, read_tree
from learning.content.schema import SLUG, Field, check, line_of
from learning.content.translations import STALE_POLICIES, load_translations, split_name

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
ADMONITION_KINDS = {"indicator", "legal", "practice", "note", "warning", "example", "scenario",
                    "definition"}
ADMONITION = re.compile(r"^\s*(?:!!!|\?\?\?\+?)\s+([A-Za-z][\w-]*)")
RESERVED_LESSON_SLUGS = {"assessments", "media", "course", "readme"}
IGNORED_FILES = {"README.md", ".DS_Store"}


@dataclass(frozen=True)
class CourseLoad:
    """The outcome of loading one course folder."""

    slug: str
    course: Course | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


@dataclass(frozen=True)
class CatalogueLoad:
    """Every course folder under the content root, loaded."""

    loads: tuple[CourseLoad, ...]

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(sorted(p for load in self.loads for p in load.problems))

    @property
    def courses(self) -> tuple[Course, ...]:
        return tuple(load.course for load in self.loads if load.course is not None)

    def failed(self, strict: bool = False) -> bool:
        """True when there are errors (or, in strict mode, any problem)."""
        return any(p.severity == "error" or strict for p in self.problems)


def _files_hash(entries: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, data in sorted(entries):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).hexdigest().encode() + b"\n")
    return digest.hexdigest()


def _decode(data: bytes, path: str, problems: list[Problem]) -> str | None:
    try:
        return data.decode("utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(path, line, "file is not valid UTF-8 text"))
        return None


def _check_body(body: str, first_line: int, path: str, course_slug: str,
                lesson_index: dict[str, set[str]], asset_paths: set[str],
                used_assets: set[str], problems: list[Problem]) -> None:
    """Check links, images and callouts in a Markdown body."""
    for ref in find_links(body, first_line):
        target = classify(course_slug, ref.target, is_image=ref.is_image)
        if target.kind == "invalid":
            problems.append(Problem(path, ref.line, target.reason))
        elif target.kind == "lesson":
            known = lesson_index.get(target.course)
            if known is None:
                problems.append(Problem(path, ref.line,
                                        f"broken link '{ref.target}': no course '{target.course}'"))
            elif target.lesson not in known:
                problems.append(Problem(path, ref.line, f"broken link '{ref.target}': course "
                                        f"'{target.course}' has no lesson '{target.lesson}'"))
        elif target.kind == "course" and target.course not in lesson_index:
            problems.append(Problem(path, ref.line,
                                    f"broken link '{ref.target}': no course '{target.course}'"))
        elif target.kind == "asset":
            if target.asset not in asset_paths:
                problems.append(Problem(path, ref.line, f"missing image '{ref.target}'"))
            used_assets.add(target.asset)
    find_variants(body, first_line, path, problems)
    for offset, text in enumerate(body.splitlines()):
        match = ADMONITION.match(text)
        if match and match.group(1).lower() not in ADMONITION_KINDS:
            kinds = ", ".join(sorted(ADMONITION_KINDS))
            problems.append(Problem(path, first_line + offset,
                                    f"unknown callout '{match.group(1)}' (use one of: {kinds})",
                                    "warning"))


def _parse_modules(raw: LocatedList, path: str, lesson_files: dict[str, str],
                   problems: list[Problem]) -> tuple[Module, ...]:
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


def _load_lesson(slug: str, rel_path: str, data: bytes,
                 problems: list[Problem]) -> tuple[Lesson | None, Document | None]:
    text = _decode(data, rel_path, problems)
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


def load_course(course_dir: Path, quizzes_dir: Path | None = None,
                lesson_index: dict[str, set[str]] | None = None,
                today: date | None = None) -> CourseLoad:
    """Parse and validate one course folder (and its quiz folder, if any)."""
    slug = course_dir.name
    base = f"courses/{slug}"
    problems: list[Problem] = []
    if lesson_index is None:
        lesson_index = {slug: _lesson_slugs(course_dir)}
    if not SLUG.match(slug):
        problems.append(Problem(base, 1, f"course folder name '{slug}' must be lower-case words "
                                         "joined by hyphens"))
    unreadable: list[Problem] = []  # links, special files: reported once, not also as missing
    entries = read_tree(course_dir, base, unreadable)
    quiz_entries = read_tree(quizzes_dir, f"quizzes/{slug}", unreadable) if quizzes_dir else []
    problems.extend(unreadable)
    by_path = dict(entries)
    course_path = f"{base}/course.md"
    if course_path not in by_path:
        if not any(p.path in (base, course_path) for p in unreadable):
            problems.append(Problem(course_path, 1, "course folder has no course.md"))
        return CourseLoad(slug, None, tuple(problems))
    for path, data in entries + quiz_entries:
        if path.rsplit("/", 1)[-1] not in IGNORED_FILES and not is_image(path):
            problems.extend(find_case_data(path, data.decode("utf-8", errors="replace")))

    asset_paths: set[str] = set()
    lesson_files: dict[str, str] = {}
    texts: list[tuple[str, str]] = []
    translated = {path: data for path, data in entries + quiz_entries
                  if split_name(path.rsplit("/", 1)[-1])}
    for path, _data in entries:
        if path in translated:
            continue
        rel = path[len(base) + 1:]
        name = rel.rsplit("/", 1)[-1]
        if name in IGNORED_FILES:
            continue
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension in IMAGE_EXTENSIONS:
            asset_paths.add(rel)
        elif rel.endswith(".md") and "/" not in rel:
            if rel != "course.md":
                lesson_files[rel[:-3]] = path
        else:
            problems.append(Problem(path, 1, "unexpected file: a course folder holds course.md, "
                                             "lesson .md files and images", "warning"))

    used_assets: set[str] = set()
    course_text = _decode(by_path[course_path], course_path, problems)
    doc = parse_document(course_text or "", course_path, problems)
    values = check(doc.meta, COURSE_SCHEMA, course_path, problems) if doc.meta else {}
    if course_text is not None:
        texts.append((course_path, course_text))
    modules = (_parse_modules(values["modules"], course_path, lesson_files, problems)
               if "modules" in values else ())
    if doc.meta is not None:
        _check_course_meta(doc.meta, values, slug, course_path, lesson_index, problems)
    _check_body(doc.body, doc.body_line, course_path, slug, lesson_index, asset_paths,
                used_assets, problems)

    lessons: dict[str, Lesson] = {}
    for lesson_slug, path in sorted(lesson_files.items()):
        lesson, lesson_doc = _load_lesson(lesson_slug, path, by_path[path], problems)
        if lesson_doc is not None:
            _check_body(lesson_doc.body, lesson_doc.body_line, path, slug, lesson_index,
                        asset_paths, used_assets, problems)
        if lesson is not None:
            lessons[lesson_slug] = lesson
            texts.append((path, by_path[path].decode("utf-8").replace("\r\n", "\n")))
    quiz_texts = []
    for path, data in quiz_entries:
        text = _decode(data, path, problems)
        if text is not None:
            texts.append((path, text))
            quiz_texts.append((path, text))
    declared = values.get("jurisdictions") or []
    check_codes(declared, getattr(declared, "item_lines", []), course_path, problems)
    quizzes = load_quizzes(quiz_texts, values.get("pass_mark", 80), problems, tuple(declared))
    stale_policy = values.get("stale_translations", "notice")
    if stale_policy not in STALE_POLICIES:
        problems.append(Problem(course_path, line_of(doc.meta, "stale_translations"),
                                "'stale_translations' must be 'notice' or 'source'"))
    translations = load_translations(
        translated, by_path | dict(quiz_entries), base, lesson_files, quizzes.questions,
        len(modules), stale_policy, problems,
        lambda body, line, path: _check_body(body, line, path, slug, lesson_index, asset_paths,
                                             used_assets, problems))
    texts.extend((path, data.decode("utf-8", errors="replace").replace("\r\n", "\n"))
                 for path, data in translated.items() if path.startswith(base + "/"))
    completion = _completion_rule(doc.meta, values, quizzes, course_path, problems)
    for lesson in lessons.values():
        if lesson.check:
            assessment = quizzes.assessment(lesson.check)
            if assessment is None or assessment.final:
                problems.append(Problem(lesson.path, 1, f"'check: {lesson.check}' must name a "
                                        f"knowledge check in quizzes/{slug}/ (not a final one)"))
    review_every = values.get("review_every", DEFAULT_REVIEW_MONTHS)
    if not any(p.severity == "error" for p in problems):  # quality once the files parse
        problems.extend(check_course_quality(lessons.values(), set(lesson_files), quizzes,
                                             review_every, today))
    for asset in sorted(asset_paths - used_assets):
        problems.append(Problem(f"{base}/{asset}", 1, "image is not used by any lesson",
                                "warning"))

    if any(p.severity == "error" for p in problems):
        return CourseLoad(slug, None, tuple(problems))
    ordered = tuple(lessons[s] for module in modules for s in module.lesson_slugs)
    assets = tuple(
        Asset(rel, hashlib.sha256(by_path[f"{base}/{rel}"]).hexdigest(), by_path[f"{base}/{rel}"])
        for rel in sorted(asset_paths)
    )
    course = Course(
        slug=slug,
        path=base,
        title=values["title"].strip(),
        summary=values["summary"].strip(),
        audience=tuple(values["audience"]),
        objectives=tuple(values["objectives"]),
        estimated_minutes=values.get("estimated_minutes")
        or sum(lesson.estimated_minutes for lesson in ordered),
        pass_mark=values["pass_mark"],
        certificate_validity_months=values.get("certificate_validity_months"),
        prerequisites=tuple(values.get("prerequisites", ())),
        language=values.get("language", "en"),
        sources=tuple(values.get("sources", ())),
        modules=modules,
        lessons=ordered,
        overview=doc.body,
        overview_line=doc.body_line,
        assets=assets,
        files=tuple(sorted(texts)),
        quizzes=quizzes,
        completion_lessons=completion[0],
        completion_assessment=completion[1],
        review_every=review_every, jurisdictions=tuple(declared),
        translations=translations,
        content_hash=_files_hash([(path, text.encode()) for path, text in texts]
                                 + [(f"{base}/{a.path}", a.data) for a in assets]),
    )
    return CourseLoad(slug, course, tuple(problems))


def _check_course_meta(meta: LocatedDict, values: dict, slug: str, path: str,
                       lesson_index: dict[str, set[str]], problems: list[Problem]) -> None:
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


def _completion_rule(meta: LocatedDict | None, values: dict, quizzes: QuizSet, path: str,
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


def _lesson_slugs(course_dir: Path) -> set[str]:
    return {p.stem for p in course_dir.glob("*.md")
            if p.name not in ("course.md", "README.md") and not split_name(p.name)}


def load_catalogue(courses_root: Path, quizzes_root: Path | None = None,
                   today: date | None = None) -> CatalogueLoad:
    """Load every course folder under ``courses_root``, in name order.

    A link (or special file) in place of a course folder is refused, not followed.
    """
    folders: list[Path] = []
    refused: list[CourseLoad] = []
    for entry in sorted(courses_root.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        problem = check_entry(entry, f"courses/{entry.name}")
        if problem is not None:
            refused.append(CourseLoad(entry.name, None, (problem,)))
        elif stat.S_ISDIR(entry.lstat().st_mode):
            folders.append(entry)
    index = {folder.name: _lesson_slugs(folder) for folder in folders}
    loads = [
        load_course(folder, quizzes_root / folder.name if quizzes_root else None, index, today)
        for folder in folders
    ] + refused
    return CatalogueLoad(tuple(sorted(loads, key=lambda load: load.slug)))
