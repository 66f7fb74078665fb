"""Load course folders into ``Course`` objects, reporting every problem at once."""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from learning.content.anchors import AnchorIndex
from learning.content.bodychecks import BodyCheck
from learning.content.casedata import find_case_data
from learning.content.coursechecks import check_course_quality
from learning.content.coursefile import (
    COURSE_SCHEMA,
    RESERVED_LESSON_SLUGS,
    check_course_meta,
    completion_rule,
    decode,
    load_lesson,
    parse_modules,
)
from learning.content.frontmatter import parse_document
from learning.content.jurisdictions import check_codes
from learning.content.links import IMAGE_EXTENSIONS
from learning.content.model import DEFAULT_REVIEW_MONTHS, Asset, Course, Lesson, Problem
from learning.content.quiz import load_quizzes
from learning.content.safety import check_entry, is_image, read_tree
from learning.content.schema import SLUG, check, line_of
from learning.content.translations import STALE_POLICIES, load_translations, split_name

__all__ = ["RESERVED_LESSON_SLUGS", "CatalogueLoad", "CourseLoad", "load_catalogue",
           "load_course"]

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


def load_course(course_dir: Path, quizzes_dir: Path | None = None,
                lesson_index: dict[str, set[str]] | None = None,
                today: date | None = None, anchors: AnchorIndex | None = None) -> CourseLoad:
    """Parse and validate one course folder (and its quiz folder, if any).

    ``anchors`` shares the pages' ids between the courses of one check; by default
    other courses' pages are read from the folder that holds ``course_dir``.
    """
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
    if anchors is None:
        anchors = AnchorIndex(course_dir.parent)
    anchors.add_course(slug, {path[len(base) + 1:]: data for path, data in entries
                              if path.endswith(".md") and "/" not in path[len(base) + 1:]})
    check_body = BodyCheck(slug, lesson_index, asset_paths, used_assets, problems, anchors)
    course_text = decode(by_path[course_path], course_path, problems)
    doc = parse_document(course_text or "", course_path, problems)
    values = check(doc.meta, COURSE_SCHEMA, course_path, problems) if doc.meta else {}
    if course_text is not None:
        texts.append((course_path, course_text))
    modules = (parse_modules(values["modules"], course_path, lesson_files, problems)
               if "modules" in values else ())
    if doc.meta is not None:
        check_course_meta(doc.meta, values, slug, course_path, lesson_index, problems)
    check_body(doc.body, doc.body_line, course_path)

    lessons: dict[str, Lesson] = {}
    for lesson_slug, path in sorted(lesson_files.items()):
        lesson, lesson_doc = load_lesson(lesson_slug, path, by_path[path], problems)
        if lesson_doc is not None:
            check_body(lesson_doc.body, lesson_doc.body_line, path)
        if lesson is not None:
            lessons[lesson_slug] = lesson
            texts.append((path, by_path[path].decode("utf-8").replace("\r\n", "\n")))
    quiz_texts = []
    for path, data in quiz_entries:
        text = decode(data, path, problems)
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
        len(modules), stale_policy, problems, check_body)
    texts.extend((path, data.decode("utf-8", errors="replace").replace("\r\n", "\n"))
                 for path, data in translated.items() if path.startswith(base + "/"))
    completion = completion_rule(doc.meta, values, quizzes, course_path, problems)
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
    anchors = AnchorIndex(courses_root)  # each page's ids computed once for the whole check
    loads = [
        load_course(folder, quizzes_root / folder.name if quizzes_root else None, index, today,
                    anchors)
        for folder in folders
    ] + refused
    return CatalogueLoad(tuple(sorted(loads, key=lambda load: load.slug)))
