"""Link anchors: readable heading ids in every script, and '#id' links checked at path:line."""

from __future__ import annotations

import re

from markdown.extensions.toc import slugify

from learning.config import PROJECT_ROOT
from learning.content import render
from learning.content.render import render_markdown

HEADING_ID = re.compile(r'<h[2-6] id="([^"]*)"')
TRANSLATED = re.compile(r"\.[A-Za-z_]{2,12}\.md$")


def heading_ids(text: str) -> list[str]:
    return HEADING_ID.findall(render_markdown(text).html)


def test_non_latin_headings_get_readable_ids_that_survive_the_sanitiser():
    text = "## المؤشرات ليست أداةً للتنميط\n\n## Проверка документов\n\n## 人口贩运\n"
    assert heading_ids(text) == ["المؤشرات-ليست-أداة-للتنميط", "проверка-документов", "人口贩运"]
    assert 'href="#проверка-документов"' in render_markdown(text).html  # the permalink


def test_latin_headings_keep_their_ascii_ids():
    assert heading_ids("## Indicators are not profiles\n\n## Le contexte détermine le poids\n\n"
                       "## Context, again!\n\n## Context again\n") == [
        "indicators-are-not-profiles", "le-contexte-determine-le-poids", "context-again",
        "context-again_1"]


def test_english_ids_of_the_shipped_catalogue_are_unchanged(monkeypatch):
    """Every English lesson renders the same heading ids as with Python-Markdown's default."""
    files = [path for path in sorted((PROJECT_ROOT / "courses").glob("*/*.md"))
             if not TRANSLATED.search(path.name)]
    now = {path: heading_ids(path.read_text()) for path in files}
    monkeypatch.setattr(render, "heading_slug", slugify)
    before = {path: heading_ids(path.read_text()) for path in files}
    assert len(files) > 50 and sum(map(len, before.values())) > 200
    assert now == before


