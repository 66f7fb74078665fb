"""Template helpers: cache-busted static URLs and small formatting filters."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, g, url_for
from flask_babel import get_locale, get_translations, gettext, ngettext
from markupsafe import Markup

from learning.content.jurisdictions import jurisdiction_name
from learning.content.render import render_inline, render_markdown
from learning.core import localtime
from learning.core.csrf import csrf_token
from learning.languages.service import direction


@lru_cache(maxsize=8192)
def markdown_html(text: str) -> Markup:
    """Sanitised HTML of a Markdown snippet (question prompts, explanations), once per text."""
    return Markup(render_markdown(text).html)


@lru_cache(maxsize=8192)
def markdown_inline_html(text: str) -> Markup:
    """Sanitised inline HTML of a one-line snippet (a source), once per text."""
    return Markup(render_inline(text))


def _translations():
    """This request's translations, looked up once (Flask-Babel looks them up per string)."""
    try:
        return g._waymark_translations
    except AttributeError:
        g._waymark_translations = get_translations()
        return g._waymark_translations


def install_fast_gettext(app: Flask) -> None:
    """Template gettext that resolves the translations once per request, not per string."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def register_template_helpers(app: Flask) -> None:
    """Add ``static_url`` and the ``minutes`` and ``markdown`` filters to every template."""
    digests: dict[str, str] = {}

    def static_url(filename: str) -> str:
        """URL of a static file with a content hash, so it can be cached for a year."""
        digest = digests.get(filename)
        if digest is None or app.debug:
            data = (Path(app.static_folder) / filename).read_bytes()
            digest = digests[filename] = hashlib.sha256(data).hexdigest()[:10]
        return url_for("static", filename=filename, v=digest)

    def minutes(value: int) -> str:
        """'45 min' or '1 h 30 min'."""
        hours, rest = divmod(int(value), 60)
        if not hours:
            return ngettext("%(num)d min", "%(num)d min", rest)
        if not rest:
            return ngettext("%(num)d h", "%(num)d h", hours)
        return gettext("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)

    def day(value) -> str:
        """An ISO date; on a right-to-left page wrapped in a left-to-right isolate (U+2066,
        U+2069) so the bidirectional algorithm does not reorder '2027-01-02', with word
        joiners (U+2060) beside its hyphens so a line never breaks inside it."""
        text = value.isoformat()
        locale = get_locale()
        if locale is None or direction(str(locale)) != "rtl":
            return text
        return "\u2066" + text.replace("-", "\u2060-\u2060") + "\u2069"

    install_fast_gettext(app)
    localtime.register(app)
    app.jinja_env.globals["static_url"] = static_url
    # Flask-WTF installs generate_csrf (as a global and in a context processor), which signs
    # the token afresh on every page; the kept signature serves every template instead.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
    app.jinja_env.filters["markdown"] = lambda text: markdown_html(text or "")
    app.jinja_env.filters["markdown_inline"] = lambda text: markdown_inline_html(text or "")
    app.jinja_env.filters["minutes"] = minutes
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["jurisdiction_name"] = lambda code: jurisdiction_name(
        code, str(get_locale()))
