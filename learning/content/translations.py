"""Course translations: sibling files such as ``first-steps.fr.md`` or ``bank.fr.yaml``.

Each translation names the source it translates with ``translates: <sha256>``, the
SHA-256 of the source file's bytes (what ``sha256sum first-steps.md`` prints; for a
lesson it equals the lesson's content hash). A different hash means the source has
changed since: the translation is *stale*. A translated bank must keep everything
that grades (ids, kinds, points, option counts, which options are correct, answers,
pairs, items) so a result never depends on the language it was taken in; its
questions are given the source's option keys, position by position.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

from learning.content.assessment_translation import (
    AssessmentTranslation,
    is_assessment_translation,
    load_assessment_translation,
)
from learning.content.bank_translation import grading_differences, with_source_keys
from learning.content.frontmatter import LocatedDict, LocatedList, parse_document, parse_yaml
from learning.content.problems import Problem
from learning.content.questions import Question, parse_question
from learning.content.schema import Field, check, line_of
from learning.content.translation_model import (
    BankTranslation,
    CourseTranslation,
    LessonTranslation,
    Translations,
)

# The six UN languages (as learning.languages spells them; this layer imports no Flask).
CONTENT_LANGUAGES = ("ar", "zh_Hans", "en", "fr", "ru", "es")
STALE_POLICIES = ("notice", "source")
TRANSLATED_NAME = re.compile(r"^(?P<stem>[a-z0-9-]+)\.(?P<lang>[A-Za-z_]{2,12})\."
                             r"(?P<ext>md|yaml|yml)$")
BodyCheck = Callable[[str, int, str], None]  # (body, first line, path): links, callouts
SHA256 = re.compile(r"^[0-9a-f]{64}$")
LESSON_SCHEMA = {
    "translates": Field("text"),
    "title": Field("text"),
    "objectives": Field("text_list", required=False),
    "content_warning": Field("text", required=False),
    "sources": Field("text_list", required=False),  # in the translation's language
}
COURSE_SCHEMA = {
    "translates": Field("text"),
    "title": Field("text"),
    "summary": Field("text", required=False),
    "objectives": Field("text_list", required=False),
    "modules": Field("text_list", required=False),  # module titles, in order
}


def split_name(name: str) -> tuple[str, str] | None:
    """(source stem, language) when a file name is a translation's, else None."""
    match = TRANSLATED_NAME.match(name)
    return (match["stem"], match["lang"]) if match else None


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _language(lang: str, path: str, problems: list[Problem]) -> bool:
    if lang in CONTENT_LANGUAGES and lang != "en":
        return True
    problems.append(Problem(path, 1, f"unknown translation language '{lang}' (use one of: "
                                     + ", ".join(c for c in CONTENT_LANGUAGES if c != "en")
                                     + ")"))
    return False


def _translates(values: dict, meta: LocatedDict, path: str, source: bytes | None,
                problems: list[Problem]) -> tuple[str, bool] | None:
    """The recorded source hash and whether it is stale; None (and a problem) when invalid."""
    recorded = str(values.get("translates", "")).strip().lower()
    line = line_of(meta, "translates")
    if not SHA256.match(recorded):
        problems.append(Problem(path, line, "'translates' must be the SHA-256 of the source "
                                            "file (64 hexadecimal characters)"))
        return None
    if source is None:
        return None
    stale = recorded != sha256_of(source)
    if stale:
        problems.append(Problem(path, line, "stale translation: the source has changed since "
                                            "(update the text, then 'translates')", "warning"))
    return recorded, stale


def _severity(hashed: tuple[str, bool] | None) -> str:
    """Differences in a translation of an older source are warnings (it is already stale, and
    what differs is left out); in a current one they are errors."""
    return "warning" if hashed is not None and hashed[1] else "error"


def load_lesson_translation(slug: str, lang: str, path: str, text: str, source: bytes,
                            problems: list[Problem],
                            check_body: BodyCheck) -> LessonTranslation | None:
    """Parse and validate ``<lesson>.<lang>.md``."""
    doc = parse_document(text, path, problems)
    if doc.meta is None:
        return None
    values = check(doc.meta, LESSON_SCHEMA, path, problems)
    if not doc.body.strip():
        problems.append(Problem(path, doc.body_line, "translation has no text"))
    check_body(doc.body, doc.body_line, path)
    hashed = _translates(values, doc.meta, path, source, problems)
    if hashed is None or "title" not in values:
        return None
    return LessonTranslation(
        slug, lang, path, values["title"].strip(), tuple(values.get("objectives", ())),
        (values.get("content_warning") or "").strip() or None, doc.body, doc.body_line,
        hashed[0], hashed[1], tuple(values.get("sources", ())))


def load_course_translation(lang: str, path: str, text: str, source: bytes, module_count: int,
                            problems: list[Problem],
                            check_body: BodyCheck) -> CourseTranslation | None:
    """Parse and validate ``course.<lang>.md``."""
    doc = parse_document(text, path, problems)
    if doc.meta is None:
        return None
    values = check(doc.meta, COURSE_SCHEMA, path, problems)
    check_body(doc.body, doc.body_line, path)
    hashed = _translates(values, doc.meta, path, source, problems)
    modules = tuple(values.get("modules", ()))
    if modules and len(modules) != module_count:  # stale: the outline changed since
        problems.append(Problem(path, line_of(doc.meta, "modules"), f"'modules' lists "
                                f"{len(modules)} titles; the course has {module_count} modules",
                                _severity(hashed)))
        modules = ()  # officers see the source's module titles
    if hashed is None or "title" not in values:
        return None
    return CourseTranslation(lang, path, values["title"].strip(),
                             str(values.get("summary", "")).strip(),
                             tuple(values.get("objectives", ())), modules, doc.body,
                             hashed[0], hashed[1])


def load_bank_translation(stem: str, lang: str, path: str, text: str, source_path: str,
                          source: bytes, sources: dict[str, Question],
                          problems: list[Problem]
                          ) -> BankTranslation | AssessmentTranslation | None:
    """Parse ``<bank>.<lang>.yaml`` and report each grading difference at ``path:line``
    (an ``assessment:`` file is a translated assessment: its words only)."""
    data = parse_yaml(text, path, problems)
    if is_assessment_translation(data):
        return load_assessment_translation(stem, lang, path, data, source_path, source,
                                           _translates(data, data, path, source, problems),
                                           problems)
    if not isinstance(data, LocatedDict) or set(data) != {"translates", "questions"}:
        problems.append(Problem(path, 1, "a translated bank holds 'translates:' and "
                                         "'questions:'"))
        return None
    hashed = _translates(data, data, path, source, problems)
    severity = _severity(hashed)  # a stale bank's differences drop those questions only
    items = data["questions"]
    if not isinstance(items, LocatedList):
        problems.append(Problem(path, data.key_lines["questions"], "'questions' must be a list"))
        return None
    questions, seen = [], set()
    for item, line in zip(items, items.item_lines, strict=True):
        raw_original = sources.get(item.get("id")) if isinstance(item, LocatedDict) else None
        if raw_original is not None and item.get("kind") != raw_original.kind:
            seen.add(raw_original.id)
            problems.append(Problem(path, item.key_lines.get("kind", line), f"question "
                                    f"'{raw_original.id}' kind '{item.get('kind')}' differs "
                                    f"from the source's '{raw_original.kind}'", severity))
            continue
        local: list[Problem] = []
        translated = parse_question(item, line, path, local)
        problems.extend(local)
        if translated is None:
            continue
        seen.add(translated.id)
        original = sources.get(translated.id)
        id_line = item.key_lines.get("id", line)
        if original is None or original.path != source_path:
            problems.append(Problem(path, id_line, f"question id '{translated.id}' is not in "
                                                   f"the source bank {source_path}", severity))
            continue
        mismatches = grading_differences(original, translated)
        problems.extend(Problem(path, id_line, f"question '{translated.id}' {m}", severity)
                        for m in mismatches)
        if not mismatches:
            questions.append(with_source_keys(original, translated))
    missing = sorted(q.id for q in sources.values() if q.path == source_path and q.id not in seen)
    for qid in missing:
        problems.append(Problem(path, items.line, f"question '{qid}' of the source is not "
                                                  "translated", "warning"))
    if hashed is None:
        return None
    return BankTranslation(lang, path, source_path, hashed[0], hashed[1], tuple(questions))


def load_translations(files: dict[str, bytes], by_path: dict[str, bytes], course_base: str,
                      lesson_paths: dict[str, str], questions: Iterable[Question],
                      module_count: int, stale_policy: str, problems: list[Problem],
                      check_body: Callable[[str, int, str], None]) -> Translations:
    """Load every translation file of a course (``files``: path -> bytes) against its source."""
    lessons, courses, banks, assessments = [], [], [], []
    top_level = {q.id: q for q in questions}
    for path, data in sorted(files.items()):
        folder, name = path.rsplit("/", 1)
        stem, lang = split_name(name) or ("", "")
        if not _language(lang, path, problems):
            continue
        try:
            text = data.decode("utf-8").replace("\r\n", "\n")
        except UnicodeDecodeError:
            problems.append(Problem(path, 1, "file is not valid UTF-8 text"))
            continue
        if folder == course_base and name.endswith(".md"):
            source_path = f"{course_base}/{stem}.md"
            if stem == "course":
                found = load_course_translation(lang, path, text, by_path[source_path],
                                                module_count, problems, check_body)
                courses.extend([found] if found else [])
            elif stem in lesson_paths:
                found = load_lesson_translation(stem, lang, path, text, by_path[source_path],
                                                problems, check_body)
                lessons.extend([found] if found else [])
            else:
                problems.append(Problem(path, 1, f"translation of '{stem}.md', which is not a "
                                                 "lesson of this course (left out)", "warning"))
            continue
        source_path = next((f"{folder}/{stem}.{ext}" for ext in ("yaml", "yml")
                            if f"{folder}/{stem}.{ext}" in by_path), None)
        if source_path is None or name.endswith(".md"):
            problems.append(Problem(path, 1, f"translation of '{stem}', which is not a file "
                                             "of this course (left out)", "warning"))
            continue
        found = load_bank_translation(stem, lang, path, text, source_path, by_path[source_path],
                                      top_level, problems)
        if isinstance(found, AssessmentTranslation):
            assessments.append(found)
        elif found is not None:
            banks.append(found)
    return Translations(tuple(lessons), tuple(courses), tuple(banks), stale_policy,
                        tuple(assessments))
