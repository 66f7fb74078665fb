"""Find and classify the links and images in a Markdown body.

The validator and the renderer share this module, so a link that passes
``content check`` is exactly a link the renderer knows how to rewrite.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

INLINE_LINK = re.compile(
    r"(!?)\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)"
)
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+[\"'(].*)?$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "webp"}


@dataclass(frozen=True)
class LinkRef:
    """A link or image target found on a body line."""

    line: int
    target: str
    is_image: bool


@dataclass(frozen=True)
class Target:
    """What a relative target points at."""

    kind: str  # "lesson", "course", "asset", "external", "anchor", "invalid"
    course: str = ""
    lesson: str = ""
    asset: str = ""
    anchor: str = ""
    reason: str = ""


def find_links(body: str, first_line: int) -> Iterator[LinkRef]:
    """Yield every inline and reference-style link target with its file line."""
    in_fence = False
    for offset, text in enumerate(body.splitlines()):
        if text.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        line = first_line + offset
        for match in INLINE_LINK.finditer(text):
            yield LinkRef(line, match.group(2), bool(match.group(1)))
        ref = REFERENCE_LINK.match(text)
        if ref:
            yield LinkRef(line, ref.group(1), False)


def classify(course_slug: str, target: str, *, is_image: bool = False) -> Target:
    """Say what a link target refers to, relative to the course folder."""
    if target.startswith("#"):
        return Target("anchor", anchor=target[1:])
    if SCHEME.match(target) or target.startswith("//"):
        scheme = target.split(":", 1)[0].lower()
        if scheme not in {"http", "https", "mailto"}:
            return Target("invalid", reason=f"links with the scheme '{scheme}:' are not allowed")
        if is_image:
            return Target("invalid", reason="images must be files in the course folder")
        return Target("external")
    if target.startswith("/"):
        return Target("invalid", reason="use a path relative to the course folder, "
                                        "not one starting with '/'")
    path, _, anchor = target.partition("#")
    normalised = posixpath.normpath(posixpath.join(course_slug, path))
    parts = normalised.split("/")
    if normalised.startswith("..") or len(parts) < 2:
        return Target("invalid", reason=f"'{target}' points outside the courses folder")
    if is_image:
        if parts[0] != course_slug:
            return Target("invalid", reason="images must be inside the course's own folder")
        extension = normalised.rsplit(".", 1)[-1].lower() if "." in parts[-1] else ""
        if extension not in IMAGE_EXTENSIONS:
            allowed = ", ".join(sorted(IMAGE_EXTENSIONS))
            return Target("invalid", reason=f"image '{target}' must be one of: {allowed}")
        return Target("asset", course=course_slug, asset="/".join(parts[1:]))
    if len(parts) != 2 or not parts[1].endswith(".md"):
        return Target("invalid", reason=f"'{target}' is not a lesson: link to 'lesson-slug.md' "
                                        "or '../other-course/lesson-slug.md'")
    stem = parts[1][:-3]
    if stem == "course":
        return Target("course", course=parts[0], anchor=anchor)
    return Target("lesson", course=parts[0], lesson=stem, anchor=anchor)
