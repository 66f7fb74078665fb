"""Template hygiene a page-by-page test would not notice."""

from __future__ import annotations

import re

from learning.config import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "templates"
TITLE_BLOCK = re.compile(r"{% block title %}(.*?){% endblock %}", re.S)


def test_every_title_block_is_one_line_of_text():
    """The title is what a browser tab and a screen reader announce: two admin pages once
    carried a copy of half their body in it, unclosed, so the tab showed raw markup."""
    wrong = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for title in TITLE_BLOCK.findall(path.read_text(encoding="utf-8")):
            if "<" in title or "\n" in title:
                wrong.append(f"{path.relative_to(TEMPLATES)}: {title[:60]!r}")
    assert wrong == []
    assert len(list(TEMPLATES.rglob("*.html"))) > 50  # the folder really was read
