"""A lesson page put together from its cached pieces, for the view and the fast path alike.

The page is three pieces kept per process (the article, the progress bar and the
shell around them, see ``catalogue.shell``) and the reader's own values. The view
builds a missing piece with Jinja (``Builders``); the fast path (``fast_path``) has no
request to render with, so it passes none and leaves a miss to the view. Both call
``lesson_bytes``, so the keys and the fill cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from learning.catalogue.course_text import page_in
from learning.catalogue.pages import LessonPage, PageCaches
from learning.catalogue.shell import Shell
from learning.catalogue.translated import LessonText, lesson_text
from learning.progress.service import CourseProgress, progress_against


class Missing(LookupError):
    """A piece of the page is not cached and there is nothing to build it with."""


@dataclass(frozen=True)
class Reader:
    """What a lesson page shows of its reader, or depends on."""

    role: str
    display_name: str
    jurisdiction: str | None  # their agency's: its passages and items


@dataclass(frozen=True)
class Builders:
    """How the view renders a piece that is not cached yet."""

    article: Callable[[LessonPage, LessonText], bytes]
    progress: Callable[[CourseProgress], bytes]
    shell: Callable[[dict[str, Any], str], Shell]  # (template context, role)


def _cached(cache, key: tuple, build: Callable[[], Any] | None) -> Any:
    if build is not None:
        return cache.get_or_build(key, build)
    found = cache.peek(key)
    if found is None:
        raise Missing(key)
    return found


@dataclass(frozen=True)
class Pieces:
    """What the page shows of a lesson for one reader, with its cached fragments."""

    context: dict[str, Any]  # the lesson template's variables (page, lesson, text, ...)
    progress: CourseProgress
    article: bytes
    progress_html: bytes


def lesson_pieces(caches: PageCaches, page: LessonPage, completed: dict[str, str],
                  reader: Reader, locale: str, builders: Builders | None,
                  original: bool = False) -> Pieces:
    """The page's variables and its two cached fragments (``Missing`` without builders)."""
    progress = progress_against(page.lesson_hashes, completed)
    lesson = page.lesson
    page = page_in(page, locale)
    text = lesson_text(lesson, page.language, locale, reader.jurisdiction, original=original)
    article = _cached(caches.version, ("fragment", "article", lesson.id, locale, text.language,
                                       reader.jurisdiction),
                      builders and (lambda: builders.article(page, text)))
    # The bar shows figures only (no name, no lesson): one rendering per locale and figures.
    progress_html = _cached(caches.progress,
                            (locale, progress.total, progress.done, progress.to_reread),
                            builders and (lambda: builders.progress(progress)))
    changed = lesson.slug in progress.changed  # read on an earlier text: the note shows
    context = dict(page=page, lesson=lesson, completed=progress.completed, changed=changed,
                   text=text)
    return Pieces(context, progress, article, progress_html)


def lesson_bytes(caches: PageCaches, page: LessonPage, completed: dict[str, str],
                 reader: Reader, locale: str, csrf: str, script_root: str,
                 builders: Builders | None, original: bool = False) -> bytes:
    """The whole lesson page for one reader, as UTF-8 (``Missing`` without builders)."""
    pieces = lesson_pieces(caches, page, completed, reader, locale, builders, original)
    context, lesson, text = pieces.context, pieces.context["lesson"], pieces.context["text"]
    shell = _cached(caches.shell,
                    ("lesson", lesson.id, locale, text.language, text.note, reader.role,
                     lesson.slug in pieces.progress.completed, context["changed"], script_root),
                    builders and (lambda: builders.shell(context, reader.role)))
    return shell.fill({"name": str(escape(reader.display_name)).encode(),
                       "csrf": str(escape(csrf)).encode(), "article": pieces.article,
                       "progress": pieces.progress_html})
