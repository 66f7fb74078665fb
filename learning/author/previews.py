"""Draft previews with the renderer and sanitiser officers get, and question previews."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from learning.author.drafts import file_kind
from learning.content.frontmatter import parse_document
from learning.content.model import Asset, Problem
from learning.content.questions import Question
from learning.content.quiz import load_quizzes
from learning.content.render import Rendered, link_rewriter, render_inline, render_markdown


@dataclass(frozen=True)
class FilePreview:
    """A Markdown file rendered as it will be published (sanitised HTML)."""

    title: str
    rendered: Rendered
    sources_html: list[str] = field(default_factory=list)


_MEDIA_URL = re.compile(r"/media/([0-9a-f]{64})\.([a-z0-9]+)")
MediaUrl = Callable[[str, str], str]  # (sha256, extension) -> the draft's image URL


def render_file(course_slug: str, assets: dict[str, str], path: str, text: str,
                media_url: MediaUrl | None = None) -> FilePreview | None:
    """Render a lesson or course.md body; None for quiz files (see question previews).

    ``media_url`` gives images the draft's own URLs: an image not yet published is
    served only to those who may edit or review the draft.
    """
    if file_kind(course_slug, path) not in ("lesson", "course"):
        return None
    document = parse_document(text, path, [])
    published = link_rewriter(course_slug, {rel: Asset(rel, sha256, b"")
                                            for rel, sha256 in assets.items()})

    def rewrite(target: str, is_image: bool) -> str:
        url = published(target, is_image)
        match = _MEDIA_URL.fullmatch(url) if media_url else None
        return media_url(match.group(1), match.group(2)) if match else url

    meta = document.meta or {}
    title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    sources = meta.get("sources") if isinstance(meta.get("sources"), list) else []
    return FilePreview(title, render_markdown(document.body, rewrite),
                       [render_inline(s, rewrite) for s in sources if isinstance(s, str)])


@dataclass(frozen=True)
class QuestionPreview:
    """A bank's questions, each with what an officer's page gets (never the key)."""

    questions: tuple[Question, ...]
    views: dict[str, dict[str, Any]]
    problems: tuple[Problem, ...]


def preview_questions(path: str, text: str) -> QuestionPreview:
    """Parse one quiz file alone; officers' views come from each kind's ``view``."""
    problems: list[Problem] = []
    quizzes = load_quizzes([(path, text)], 80, problems)
    rng = random.Random(0)
    views: dict[str, dict[str, Any]] = {}
    for question in quizzes.questions:
        for part in question.gradable():
            views[part.id] = part.handler.view(part, rng)
    return QuestionPreview(quizzes.questions, views, tuple(problems))
