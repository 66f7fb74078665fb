"""Link anchors: readable heading ids in every script, and '#id' links checked at path:line."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from markdown.extensions.toc import slugify

from learning.config import PROJECT_ROOT
from learning.content import anchors, load_catalogue, render
from learning.content.anchors import AnchorIndex, page_ids
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




COURSE = """---
title: {title}
summary: Short summary.
audience: [Officers]
objectives: [Do a thing.]
pass_mark: 80
sources: ["Source, 2026."]
modules:
  - title: Only module
    lessons: [intro, details]
review_every: null
---
## About this course

Overview.
"""
LESSON = """---
title: {title}
estimated_minutes: 5
sources: ["Source, 2026."]
reviewed: 2026-11-20
---
{body}
"""
TRANSLATION = """---
translates: {sha}
title: {title}
---
{body}
"""
INTRO = "## Start here\n\nRead on.\n"
DETAILS = ("## Details\n\nText.[^note]\n\n<a id=\"kept-by-hand\"></a>\n\nMore.\n\n"
           "::: jurisdiction uk\n### Only in the UK\n\nUK text.\n:::\n\n[^note]: A note.\n")


def catalogue(tmp_path: Path, *, intro: str = INTRO, details: str = DETAILS,
              translations: dict[str, str] | None = None) -> Path:
    """Two small courses, alpha (with ``intro``) and beta; ``translations``: alpha's."""
    root = tmp_path / "courses"
    for slug in ("alpha", "beta"):
        folder = root / slug
        folder.mkdir(parents=True)
        (folder / "course.md").write_text(COURSE.format(title=slug.title()))
        (folder / "intro.md").write_text(LESSON.format(title="Intro",
                                                       body=intro if slug == "alpha" else INTRO))
        (folder / "details.md").write_text(LESSON.format(title="Details", body=details))
    for name, body in (translations or {}).items():
        source = root / "alpha" / (name.split(".")[0] + ".md")
        sha = hashlib.sha256(source.read_bytes()).hexdigest()
        (root / "alpha" / name).write_text(TRANSLATION.format(sha=sha, title="T", body=body),
                                           encoding="utf-8")
    return root


def problems(root: Path) -> list[str]:
    return [str(p) for p in load_catalogue(root).problems]


def test_page_ids_are_headings_explicit_ids_footnotes_and_variant_headings():
    ids = page_ids(DETAILS)
    assert {"details", "kept-by-hand", "fn:note", "fnref:note", "only-in-the-uk"} <= ids
    assert "_1" not in page_ids("## التفاصيل\n") and "التفاصيل" in page_ids("## التفاصيل\n")


def test_valid_anchors_pass(tmp_path):
    intro = ("## Start here\n\n[top](#start-here), [heading](details.md#details), "
             "[by hand](details.md#kept-by-hand), [note](details.md#fn:note), "
             "[UK passage](details.md#only-in-the-uk), [overview](course.md#about-this-course), "
             "[other course](../beta/details.md#details), [bare](details.md#)\n")
    root = catalogue(tmp_path, intro=intro)
    assert problems(root) == []


def test_broken_anchor_in_a_lesson_is_an_error_at_its_line(tmp_path):
    intro = ("## Start here\n\n[fine](details.md#details)\n\n[made up](details.md#made-up)\n\n"
             "[self](#nowhere) and [far](../beta/intro.md#details)\n")
    root = catalogue(tmp_path, intro=intro)
    load = load_catalogue(root)
    assert [str(p) for p in load.problems] == [
        "courses/alpha/intro.md:11: broken link 'details.md#made-up': no heading 'made-up' "
        "in details.md",
        "courses/alpha/intro.md:13: broken link '#nowhere': no heading 'nowhere' in intro.md",
        "courses/alpha/intro.md:13: broken link '../beta/intro.md#details': no heading "
        "'details' in ../beta/intro.md",
    ]
    assert load.failed() and "alpha" not in {course.slug for course in load.courses}


def test_translation_links_to_the_translation_in_its_language_else_the_source(tmp_path):
    root = catalogue(tmp_path, translations={
        "details.fr.md": "## Précisions\n\nTexte.\n",
        "intro.fr.md": "## Commencer\n\n[ok](details.md#precisions) [ici](#commencer)\n\n"
                       "[inventé](details.md#details)\n",
        "details.ar.md": "## التفاصيل\n\nنص.\n",
        "intro.ar.md": "## ابدأ هنا\n\n[ok](details.md#التفاصيل) "
                       "[encoded](details.md#%D8%A7%D9%84%D8%AA%D9%81%D8%A7%D8%B5%D9%8A%D9%84)\n",
        "intro.ru.md": "## Начало\n\n[source](details.md#details) [нет](details.md#детали)\n",
    })
    assert problems(root) == [
        "courses/alpha/intro.fr.md:9: broken link 'details.md#details': no heading 'details' "
        "in details.fr.md",
        "courses/alpha/intro.ru.md:7: broken link 'details.md#детали': no heading 'детали' "
        "in details.md",
    ]


def test_each_page_ids_are_computed_once_per_check(tmp_path, monkeypatch):
    calls: list[str] = []

    def counting(body: str) -> frozenset[str]:
        calls.append(body)
        return page_ids(body)

    monkeypatch.setattr(anchors, "page_ids", counting)
    link = "[a](../alpha/details.md#details) [b](../alpha/details.md#kept-by-hand)\n"
    root = catalogue(tmp_path, intro=f"## Start here\n\n{link}")
    assert problems(root) == []
    assert len(calls) == 1  # alpha/details.md, linked four times from two courses


def test_a_linked_page_behind_a_symbolic_link_is_not_read(tmp_path):
    root = catalogue(tmp_path, intro="## Start here\n\n[b](../beta/details.md#details)\n")
    outside = tmp_path / "outside.md"
    outside.write_text(LESSON.format(title="X", body="## Details\n"))
    assert AnchorIndex(root).ids("beta", "details.md") is not None
    (root / "beta" / "details.md").unlink()
    (root / "beta" / "details.md").symlink_to(outside)
    assert AnchorIndex(root).ids("beta", "details.md") is None
