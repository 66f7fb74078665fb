"""Check a Markdown body (an overview, a lesson, a translation): links, images, callouts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from learning.content.anchors import AnchorIndex, anchor_problem
from learning.content.jurisdictions import find_variants
from learning.content.links import classify, find_links
from learning.content.problems import Problem

ADMONITION_KINDS = {"indicator", "legal", "practice", "note", "warning", "example", "scenario",
                    "definition"}
ADMONITION = re.compile(r"^\s*(?:!!!|\?\?\?\+?)\s+([A-Za-z][\w-]*)")


@dataclass
class BodyCheck:
    """Checks the bodies of one course, reporting to ``problems``; records the images used."""

    course_slug: str
    lesson_index: dict[str, set[str]]  # course slug -> its lesson slugs
    asset_paths: set[str]
    used_assets: set[str]
    problems: list[Problem]
    anchors: AnchorIndex | None = None  # None: '#id' parts are not checked

    def __call__(self, body: str, first_line: int, path: str) -> None:
        """Check links (and their anchors), images and callouts in a Markdown body."""
        for ref in find_links(body, first_line):
            self._link(path, ref.line, ref.target, ref.is_image)
        find_variants(body, first_line, path, self.problems)
        for offset, text in enumerate(body.splitlines()):
            match = ADMONITION.match(text)
            if match and match.group(1).lower() not in ADMONITION_KINDS:
                kinds = ", ".join(sorted(ADMONITION_KINDS))
                self.problems.append(Problem(path, first_line + offset, f"unknown callout "
                                             f"'{match.group(1)}' (use one of: {kinds})",
                                             "warning"))

    def _link(self, path: str, line: int, link: str, is_image: bool) -> None:
        target = classify(self.course_slug, link, is_image=is_image)
        problem = None
        if target.kind == "invalid":
            problem = target.reason
        elif target.kind == "lesson":
            known = self.lesson_index.get(target.course)
            if known is None:
                problem = f"broken link '{link}': no course '{target.course}'"
            elif target.lesson not in known:
                problem = (f"broken link '{link}': course '{target.course}' has no lesson "
                           f"'{target.lesson}'")
        elif target.kind == "course" and target.course not in self.lesson_index:
            problem = f"broken link '{link}': no course '{target.course}'"
        elif target.kind == "asset":
            if target.asset not in self.asset_paths:
                problem = f"missing image '{link}'"
            self.used_assets.add(target.asset)
        if problem:
            self.problems.append(Problem(path, line, problem))
        elif target.anchor and self.anchors is not None:
            linked = None if target.kind == "anchor" else (
                target.course, target.lesson if target.kind == "lesson" else "course")
            found = anchor_problem(self.anchors, path, line, link, self.course_slug, linked,
                                   target.anchor)
            self.problems.extend([found] if found else [])
