"""Markdown to safe HTML, done once per content version (never per request).

Python-Markdown does not sanitise, so every fragment passes through nh3 with
an explicit allow-list: raw ``<script>``, event-handler attributes and
``javascript:`` URLs cannot reach a page.
"""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import slugify, slugify_unicode
from markdown.treeprocessors import Treeprocessor

from learning.content.jurisdictions import body_for, named
from learning.content.links import classify
from learning.content.model import Asset, Course

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "summary",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "class"},
    "abbr": {"title"},
    "div": {"class", "aria-label", "data-jurisdictions"},
    "p": {"class"},
    "span": {"class"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "li": {"id"},
    "sup": {"id"},
    "ol": {"start"},
    "td": {"align"}, "th": {"align", "scope"},
    "details": {"open"},
}
# Only the values the table wrapper uses: authors cannot add other roles or tab stops.
ATTRIBUTE_VALUES = {"div": {"role": {"region"}, "tabindex": {"0"}}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_PASSES = 4  # re-cleaning settles in one or two; the bound keeps hostile input cheap


@dataclass(frozen=True)
class Rendered:
    """Sanitised HTML of a document and of its table of contents."""

    html: str
    toc_html: str


def _clean(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS,
                     # without a "*" entry nh3 allows lang and title on every tag
                     attributes={"*": set(), **ALLOWED_ATTRIBUTES},
                     tag_attribute_values=ATTRIBUTE_VALUES,
                     url_schemes=URL_SCHEMES, link_rel="noopener noreferrer",
                     strip_comments=True)


def sanitise(html: str) -> str:
    """Keep only allow-listed tags, attributes and URL schemes, in HTML that parses back
    to itself.

    Removing a tag can leave a tree no parser builds (``<p><button></p>`` loses the button
    and keeps a ``<p>`` inside a ``<p>``), so the result is cleaned again until it is
    stable: what a browser parses is then exactly what was checked.
    """
    clean = _clean(html)
    for _attempt in range(MAX_PASSES):
        again = _clean(clean)
        if again == clean:
            break
        clean = again
    return clean


class _LinkRewriter(Treeprocessor):
    def __init__(self, md: markdown.Markdown, rewrite: Callable[[str, bool], str]):
        super().__init__(md)
        self.rewrite = rewrite

    def run(self, root: ET.Element) -> None:
        for element in root.iter():
            if element.tag == "a" and element.get("href"):
                element.set("href", self.rewrite(element.get("href", ""), False))
            elif element.tag == "img" and element.get("src"):
                element.set("src", self.rewrite(element.get("src", ""), True))
                element.set("loading", "lazy")


class _TableScroller(Treeprocessor):
    """Wrap each table in a focusable, labelled region that scrolls sideways on phones; an
    empty header cell (the corner of a comparison table) becomes a plain cell, since a
    header that names nothing is announced as an empty header."""

    def run(self, root: ET.Element) -> None:
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag != "table":
                    continue
                for cell in child.findall("thead/tr/th"):
                    if not "".join(cell.itertext()).strip() and not len(cell):
                        cell.tag = "td"  # an empty corner cell heads nothing
                wrapper = ET.Element("div", {"class": "table-scroll", "role": "region",
                                             "aria-label": table_label(child), "tabindex": "0"})
                wrapper.tail, child.tail = child.tail, None
                parent.remove(child)
                wrapper.append(child)
                parent.insert(index, wrapper)


def table_label(table: ET.Element) -> str:
    """A table's name for screen readers: its header cells' text (authored, so localised)."""
    head = table.find("thead/tr")
    row = head if head is not None else table.find(".//tr")
    cells = list(row) if row is not None else []
    texts = [" ".join("".join(cell.itertext()).split()) for cell in cells]
    return ", ".join(t for t in texts if t)[:200] or "Table"


class _LinkExtension(Extension):
    def __init__(self, rewrite: Callable[[str, bool], str]):
        super().__init__()
        self.rewrite = rewrite

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(_LinkRewriter(md, self.rewrite), "waymark_links", 1)
        md.treeprocessors.register(_TableScroller(md), "waymark_tables", 0)


def heading_slug(value: str, separator: str) -> str:
    """A heading's id: ASCII as before for Latin-script text (so existing ids and links keep
    working), the letters themselves for other scripts (Arabic, Chinese, Russian), which the
    ASCII slug would drop, leaving ids such as ``_1``."""
    if any(char.isalnum() and not char.isascii()
           and not unicodedata.name(char, "").startswith("LATIN")
           for char in unicodedata.normalize("NFKD", value)):
        return slugify_unicode(value, separator)
    return slugify(value, separator)


def _make_markdown(rewrite: Callable[[str, bool], str],
                   variants: bool = False) -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            "tables", "footnotes", "admonition", "sane_lists", "fenced_code", "abbr", "def_list",
            "toc", _LinkExtension(rewrite), *(["md_in_html"] if variants else []),
        ],
        extension_configs={
            "tables": {"use_align_attribute": True},
            "toc": {"toc_depth": "2-3", "permalink": "#", "slugify": heading_slug,
                    "permalink_title": "Link to this section"},
            "footnotes": {"BACKLINK_TITLE": "Back to the text"},
        },
        output_format="html",
    )


def link_rewriter(course_slug: str, assets: dict[str, Asset],
                  url_prefix: str = "") -> Callable[[str, bool], str]:
    """Map file-relative targets to the app's stable URLs."""

    def rewrite(target: str, is_image: bool) -> str:
        kind = classify(course_slug, target, is_image=is_image)
        anchor = f"#{kind.anchor}" if kind.anchor else ""
        if kind.kind == "lesson":
            return f"{url_prefix}/courses/{kind.course}/{kind.lesson}/{anchor}"
        if kind.kind == "course":
            return f"{url_prefix}/courses/{kind.course}/{anchor}"
        if kind.kind == "asset" and kind.asset in assets:
            asset = assets[kind.asset]
            return f"{url_prefix}/media/{asset.sha256}.{asset.extension}"
        if kind.kind in ("external", "anchor"):
            return target
        return "#"

    return rewrite


def render_markdown(text: str, rewrite: Callable[[str, bool], str] | None = None) -> Rendered:
    """Render one Markdown document to sanitised HTML plus its TOC."""
    md = _make_markdown(rewrite or (lambda target, is_image: target),
                        variants='class="variant"' in text)
    html = md.convert(text)
    return Rendered(sanitise(html), sanitise(getattr(md, "toc", "")))


def render_inline(text: str, rewrite: Callable[[str, bool], str] | None = None) -> str:
    """Render a one-line Markdown fragment (a source, an objective) without a paragraph."""
    html = render_markdown(text, rewrite).html
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def render_course_texts(course: Course, url_prefix: str = "") -> dict[str, Rendered]:
    """Render the overview ('') and every lesson of a course, keyed by lesson slug."""
    rewrite = link_rewriter(course.slug, {a.path: a for a in course.assets}, url_prefix)
    rendered = {"": render_markdown(body_for(course.overview, None, course.language), rewrite)}
    for lesson in course.lessons:
        rendered[lesson.slug] = render_markdown(body_for(lesson.body, None, course.language),
                                                rewrite)
    return rendered


def render_variants(course: Course, url_prefix: str = "") -> dict[str, dict[str, Rendered]]:
    """Per lesson, its text for each jurisdiction its variant blocks name (general text
    plus that jurisdiction's passages); lessons without variants are left out."""
    rewrite = link_rewriter(course.slug, {a.path: a for a in course.assets}, url_prefix)
    return {lesson.slug: {code: render_markdown(body_for(lesson.body, code, course.language),
                                                rewrite) for code in named(lesson.body)}
            for lesson in course.lessons if named(lesson.body)}
