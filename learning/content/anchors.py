"""Link anchors: the ids a page has, and whether a ``#id`` link names one of them.

The ids are read from the rendered, sanitised page (``render.py``), so they are exactly
what a reader's browser can scroll to: heading ids, footnote ids and explicit
``<a id="...">``, in the general text and in every jurisdiction's passages. A page's ids
are computed once per check, and only for pages that a link with an anchor points at.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from learning.content.frontmatter import parse_document
from learning.content.jurisdictions import body_for, named
from learning.content.problems import Problem
from learning.content.render import render_markdown
from learning.content.safety import read_one
from learning.content.translations import split_name


class _IdCollector(HTMLParser):
    """Collects every ``id`` attribute of an HTML fragment (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


def page_ids(body: str) -> frozenset[str]:
    """Every id on the page a Markdown body renders to, in each jurisdiction's text."""
    collector = _IdCollector()
    for jurisdiction in (None, *named(body)):
        collector.feed(render_markdown(body_for(body, jurisdiction)).html)
    collector.close()
    return frozenset(collector.ids)


class AnchorIndex:
    """The pages of a check and their ids, each computed at most once.

    The course being loaded hands in its Markdown files (``add_course``); a file of
    another course is read from ``courses_root`` when a link first needs it (refused,
    like every content read, if it is a link or special file).
    """

    def __init__(self, courses_root: Path | None = None) -> None:
        self.courses_root = courses_root
        self._files: dict[str, dict[str, bytes]] = {}
        self._bodies: dict[tuple[str, str], str | None] = {}
        self._ids: dict[tuple[str, str], frozenset[str] | None] = {}

    def add_course(self, course: str, files: dict[str, bytes]) -> None:
        """Hand in every Markdown file of a course (file name -> bytes)."""
        self._files[course] = files

    def body(self, course: str, name: str) -> str | None:
        """The Markdown body of ``course/name``; None if there is no such readable file."""
        key = (course, name)
        if key not in self._bodies:
            if course in self._files:
                data = self._files[course].get(name)
            else:
                data = read_one(self.courses_root / course, name) if self.courses_root else None
            try:
                text = data.decode("utf-8").replace("\r\n", "\n") if data is not None else None
            except UnicodeDecodeError:
                text = None
            self._bodies[key] = None if text is None else parse_document(text, name, []).body
        return self._bodies[key]

    def ids(self, course: str, name: str) -> frozenset[str] | None:
        """The ids on the page of ``course/name``; None if the file cannot be read."""
        key = (course, name)
        if key not in self._ids:
            body = self.body(course, name)
            self._ids[key] = None if body is None else page_ids(body)
        return self._ids[key]


def target_name(index: AnchorIndex, course: str, stem: str, language: str | None) -> str:
    """The file a link to ``stem.md`` opens for a reader of ``language``: its translation
    into that language when there is one, else the source."""
    if language:
        translated = f"{stem}.{language}.md"
        if index.body(course, translated) is not None:
            return translated
    return f"{stem}.md"


def anchor_problem(index: AnchorIndex, path: str, line: int, link: str, here: str,
                   target: tuple[str, str] | None, anchor: str) -> Problem | None:
    """A broken-link problem when ``anchor`` names no id on the page the link opens.

    ``path`` is the linking file, in course ``here``; ``target`` is the (course, stem)
    linked to, or None for the linking page itself. A translation's links open the
    translations in its language where they exist.
    """
    name = path.rsplit("/", 1)[-1]
    wanted = unquote(anchor)
    if not wanted:
        return None
    course = here
    if target is not None:
        found = split_name(name)
        course, name = target[0], target_name(index, target[0], target[1],
                                              found[1] if found else None)
    ids = index.ids(course, name)
    if ids is None or wanted in ids:
        return None
    shown = name if course == here else f"../{course}/{name}"
    return Problem(path, line, f"broken link '{link}': no heading '{wanted}' in {shown}")
