"""Markdown rendering: the extensions we promise, and no way to smuggle script in."""

import pytest

from learning.content.render import render_inline, render_markdown

XSS_PAYLOADS = [
    "<script>alert('x')</script>",
    '<img src="x.png" onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](vbscript:msgbox(1))",
    '<iframe src="https://example.org"></iframe>',
    '<svg onload="alert(1)"><circle r="5"/></svg>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<form action="https://evil.example"><input name="q"></form>',
    "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<p onclick=\"alert(1)\" onmouseover='alert(2)'>text</p>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "!!! indicator \"<script>alert(1)</script>\"\n    body",
    '<link rel="stylesheet" href="https://evil.example/x.css"><meta http-equiv="refresh">',
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_are_neutralised(payload):
    html = render_markdown(f"Some text.\n\n{payload}\n").html.lower()
    for forbidden in ("<script", "javascript:", "vbscript:", "onerror", "onload", "onclick",
                      "onmouseover", "<iframe", "<svg", "style=", "<form", "<input", "<object",
                      "<embed", "data:text", "<link", "<meta", "<math"):
        assert forbidden not in html, f"{forbidden!r} survived in {html!r}"


def test_admonitions_tables_footnotes_and_anchors():
    text = """## Signs to notice

!!! indicator "Documents held by another person"
    The companion keeps the passport.

| Phase | Strength |
|:------|---------:|
| Travel | weaker |

A claim that needs a source.[^src]

### A subsection

[^src]: The source of the claim.
"""
    rendered = render_markdown(text)
    html = rendered.html
    assert '<div class="admonition indicator">' in html
    assert '<p class="admonition-title">Documents held by another person</p>' in html
    assert '<th align="left">Phase</th>' in html and '<td align="right">weaker</td>' in html
    assert '<sup id="fnref:src"><a class="footnote-ref" href="#fn:src"' in html
    assert '<li id="fn:src">' in html
    assert '<h2 id="signs-to-notice">' in html and 'href="#signs-to-notice"' in html
    assert '<a href="#a-subsection"' in rendered.toc_html


def test_inline_sources_keep_links_but_not_paragraphs():
    html = render_inline("[UNODC](https://www.unodc.org/), *Global Report 2024*.")
    assert html.startswith('<a href="https://www.unodc.org/"')
    assert "<em>Global Report 2024</em>" in html
    assert "<p>" not in html


def test_lesson_links_and_images_become_stable_urls(tmp_path):
    from learning.content import load_catalogue
    from learning.content.render import render_course_texts
    from tests.conftest import FIXTURE_CONTENT

    course = load_catalogue(FIXTURE_CONTENT / "courses", FIXTURE_CONTENT / "quizzes").courses[0]
    rendered = render_course_texts(course)
    first = rendered["first-steps"].html
    assert 'href="/courses/field-basics/second-steps/#details"' in first
    asset = course.assets[0]
    assert f'src="/media/{asset.sha256}.png"' in first
    assert 'href="/courses/field-basics/"' in rendered["wrap-up"].html
    assert 'href="/courses/field-basics/first-steps/"' in rendered[""].html


def test_tables_scroll_in_a_labelled_focusable_region():
    html = render_markdown("| Sign | *Meaning* |\n|---|---|\n| a | b |\n\nAfter.\n").html
    assert html.startswith('<div aria-label="Sign, Meaning" class="table-scroll" role="region" '
                           'tabindex="0"><table>')
    assert html.count("<table>") == 1 and "</table></div>" in html


def test_an_empty_corner_header_becomes_a_plain_cell():
    html = render_markdown("| | Smuggling | Trafficking |\n|:--|:--|:--|\n| Consent | a | b |\n"
                           ).html
    head = html[html.index("<thead>"):html.index("</thead>")]
    assert '<td align="left"></td>' in head and "<th></th>" not in head
    assert head.count("<th ") == 2  # the headers that name something stay headers


def test_authors_cannot_add_other_roles_or_tab_stops():
    from learning.content.render import sanitise
    cleaned = sanitise('<div role="button" tabindex="5" class="x">z</div>')
    assert "role" not in cleaned and "tabindex" not in cleaned
