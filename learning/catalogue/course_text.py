"""A course's own words (title, summary, objectives, contents, overview) in a reader's language.

Rendered at publish into the version's translation summary (catalogue/translated.py), so
choosing the words costs no query and no Markdown work. A course translation made for an
older source is shown, like a stale lesson, unless the course asks for the source
(``stale_translations: source``); lesson titles follow the lessons' own translations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from learning.catalogue.models import CourseVersion
from learning.catalogue.pages import LessonPage
from learning.catalogue.translated import InLanguage


@dataclass(frozen=True)
class CourseText(InLanguage):
    """What the course pages show of a version in one language."""

    language: str
    title: str
    summary: str
    objectives: list[str]
    outline: list[dict[str, Any]]  # modules with their lessons, titles in ``language``
    overview_html: str | None  # None: the version's own (deferred) overview


def _translated(summary: dict[str, Any] | None, language: str | None
                ) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """(the course translation a reader of ``language`` gets, translated lesson titles)."""
    summary = summary or {}
    titles = (summary.get("lesson_titles") or {}).get(language or "", {})
    found = (summary.get("courses") or {}).get(language or "")
    if found is not None and found["stale"] and summary.get("policy") == "source":
        found = None
    return found, titles


def course_text(version: CourseVersion, language: str | None) -> CourseText:
    """The course's words for a reader of ``language`` (the version's own where untranslated)."""
    found, titles = _translated(version.translations, language)
    modules = (found or {}).get("modules") or []
    outline = [dict(module, title=modules[index] if index < len(modules) else module["title"],
                    lessons=[dict(item, title=titles.get(item["slug"], item["title"]))
                             for item in module["lessons"]])
               for index, module in enumerate(version.outline)]
    if found is None:
        return CourseText(version.language, version.title, version.summary,
                          list(version.objectives), outline, None)
    return CourseText(language or version.language, found["title"],
                      found["summary"] or version.summary,
                      list(found.get("objectives") or version.objectives), outline,
                      found.get("overview_html"))


def page_in(page: LessonPage, language: str | None) -> LessonPage:
    """A lesson page's course title, module title and neighbours' titles in ``language``."""
    found, titles = _translated(page.translations, language)
    if found is None and not titles:
        return page
    modules = (found or {}).get("modules") or []
    module_index = page.lesson.module_index

    def neighbour(item: dict[str, Any] | None) -> dict[str, Any] | None:
        return item and dict(item, title=titles.get(item["slug"], item["title"]))

    return replace(
        page, course_title=found["title"] if found else page.course_title,
        module_title=modules[module_index] if module_index < len(modules) else page.module_title,
        previous=neighbour(page.previous), following=neighbour(page.following))
