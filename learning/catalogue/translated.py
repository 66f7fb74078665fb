"""Course translations at publish (rendered like the source) and when reading.

A lesson stores its rendered translations next to its own HTML, so the lesson
page loads them in the same query. Which text a reader gets: the translation in
their interface language when it is current; a stale one with a notice, or the
source, as the course sets (``stale_translations``); otherwise the source with a
note that it is not translated yet. Progress is per lesson, whatever the language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from learning.catalogue.models import CourseVersion, Lesson
from learning.catalogue.pages import quiz_set, version_cache
from learning.content import Course as CourseFiles
from learning.content.assessment_translation import AssessmentTranslation
from learning.content.jurisdictions import body_for, named
from learning.content.problems import Problem
from learning.content.questions import Question
from learning.content.quiz import Assessment
from learning.content.render import link_rewriter, render_inline, render_markdown
from learning.content.translation_model import BankTranslation, Translations
from learning.content.translations import load_bank_translation, split_name
from learning.extensions import db

RIGHT_TO_LEFT = frozenset({"ar"})
HTML_LANG = {"zh_Hans": "zh-Hans"}


class InLanguage:
    """The ``lang`` and ``dir`` attributes of text in ``self.language`` (our code)."""

    language: str

    @property
    def html_lang(self) -> str:
        return HTML_LANG.get(self.language, self.language)

    @property
    def direction(self) -> str:
        return "rtl" if self.language in RIGHT_TO_LEFT else "ltr"


@dataclass(frozen=True)
class LessonText(InLanguage):
    """What the lesson page shows: the source or a translation, and any note about it."""

    language: str  # our code of the language shown
    title: str
    objectives: list[str]
    content_warning: str | None
    html: str
    toc_html: str
    note: str | None  # None | "stale" (an older source's translation) | "untranslated"
    sources_html: tuple[str, ...] = ()  # the translation's own sources, in its language


def render_translations(files: CourseFiles) -> tuple[dict[str, Any], dict[str, dict]]:
    """(the version's translation summary, each lesson's rendered translations by slug)."""
    found: Translations = files.translations
    rewrite = link_rewriter(files.slug, {a.path: a for a in files.assets})
    lessons: dict[str, dict] = {}
    for item in found.lessons:
        rendered = render_markdown(body_for(item.body, None, item.language), rewrite)
        variants = {code: render_markdown(body_for(item.body, code, item.language), rewrite)
                    for code in named(item.body)}
        lessons.setdefault(item.slug, {})[item.language] = {
            "title": item.title, "objectives": list(item.objectives),
            "content_warning": item.content_warning, "html": rendered.html,
            "toc_html": rendered.toc_html, "stale": item.stale,
            "policy": found.stale_policy,
            "sources_html": [render_inline(source, rewrite) for source in item.sources],
            "variants": {code: {"html": text.html, "toc_html": text.toc_html}
                         for code, text in variants.items()} or None,
        }
    shown = [t for t in found.lessons if not (t.stale and found.stale_policy == "source")]
    summary = {
        "policy": found.stale_policy, "stale": list(found.stale()),
        "courses": {c.language: {
            "title": c.title, "summary": c.summary, "stale": c.stale,
            "objectives": list(c.objectives), "modules": list(c.module_titles),
            "overview_html": render_markdown(body_for(c.overview, None, c.language),
                                             rewrite).html,
        } for c in found.courses},
        # lesson titles for contents and navigation, where readers get the translation
        "lesson_titles": {lang: {t.slug: t.title for t in shown if t.language == lang}
                          for lang in sorted({t.language for t in shown})},
        "languages": sorted({t.language for t in (*found.lessons, *found.courses,
                                                  *found.banks)}),
    }
    return summary, lessons


def lesson_text(lesson: Lesson, source_language: str, language: str,
                jurisdiction: str | None = None, original: bool = False) -> LessonText:
    """The text of ``lesson`` for a reader of ``language`` in ``jurisdiction``
    (``original``: the source asked for). No Markdown work: all was rendered at publish."""
    html, toc_html = _variant(lesson.variants, jurisdiction, lesson.html, lesson.toc_html)
    source = LessonText(source_language, lesson.title, list(lesson.objectives),
                        lesson.content_warning, html, toc_html, None)
    if language == source_language or original:
        return source
    found = (lesson.translations or {}).get(language)
    if found is None or (found["stale"] and found["policy"] == "source"):
        return LessonText(source_language, lesson.title, list(lesson.objectives),
                          lesson.content_warning, html, toc_html, "untranslated")
    html, toc_html = _variant(found.get("variants"), jurisdiction, found["html"],
                              found["toc_html"])
    return LessonText(language, found["title"], list(found["objectives"]) or
                      list(lesson.objectives), found["content_warning"], html, toc_html,
                      "stale" if found["stale"] else None, tuple(found.get("sources_html") or ()))


def _variant(variants: dict | None, jurisdiction: str | None, html: str,
             toc_html: str) -> tuple[str, str]:
    """(html, toc_html) for a jurisdiction: its variant if there is one, else the general text."""
    variant = (variants or {}).get(jurisdiction or "")
    if variant is None:
        return html, toc_html
    return variant["html"], variant["toc_html"]


def course_title_in(version: CourseVersion, language: str | None) -> str:
    """The course title in ``language`` when the version has a current translation of it."""
    return title_in(version.translations, version.title, language)


def title_in(translations: dict[str, Any] | None, title: str, language: str | None) -> str:
    """A version's course ``title`` in ``language``, from its translation summary."""
    course = ((translations or {}).get("courses") or {}).get(language or "")
    if course is None or course["stale"]:
        return title
    return course["title"]


def stale_translations(version: CourseVersion | None) -> list[str]:
    """Paths of the version's stale translations, for trainers."""
    return list((version.translations or {}).get("stale", ())) if version else []


def translated_questions(version_id: int, language: str | None) -> dict[str, Question]:
    """A version's questions translated into ``language``, by id (consistent banks only).

    Each carries the source's option keys and answers, so grading is the source's.
    """
    if not language:
        return {}

    def build() -> dict[str, Question]:
        version = db.session.get(CourseVersion, version_id)
        prefix = f"quizzes/{version.course.slug}/"
        sources = {q.id: q for q in quiz_set(version_id).questions}
        found: dict[str, Question] = {}
        for path, text in sorted(version.files.items()):
            name = path.rsplit("/", 1)[-1]
            parts = split_name(name)
            if not path.startswith(prefix) or parts is None or parts[1] != language:
                continue
            folder = path.rsplit("/", 1)[0]
            source_path = next((f"{folder}/{parts[0]}.{ext}" for ext in ("yaml", "yml")
                                if f"{folder}/{parts[0]}.{ext}" in version.files), None)
            if source_path is None:
                continue
            problems: list[Problem] = []
            bank = load_bank_translation(parts[0], language, path, text, source_path,
                                         version.files[source_path].encode(), sources, problems)
            for question in bank.questions if isinstance(bank, BankTranslation) else ():
                found[question.id] = question
        return found

    return version_cache().get_or_build(("translated-questions", version_id, language), build)


def translated_assessment(version_id: int, assessment: Assessment,
                          language: str | None) -> Assessment:
    """``assessment`` with its title and topic titles in ``language`` when the version has a
    current translation of it; its rules (draw, pass mark, limits) are always the source's."""
    if not language:
        return assessment

    def build() -> AssessmentTranslation | None:
        version = db.session.get(CourseVersion, version_id)
        folder = assessment.path.rsplit("/", 1)[0]
        stem, ext = assessment.path.rsplit("/", 1)[1].rsplit(".", 1)
        path = f"{folder}/{stem}.{language}.{ext}"
        if path not in version.files or assessment.path not in version.files:
            return None
        found = load_bank_translation(stem, language, path, version.files[path],
                                      assessment.path, version.files[assessment.path].encode(),
                                      {}, [])
        return found if isinstance(found, AssessmentTranslation) else None

    found = version_cache().get_or_build(
        ("translated-assessment", version_id, assessment.slug, language), build)
    return found.apply(assessment) if found is not None and not found.stale else assessment
