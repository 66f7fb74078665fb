"""The six UN languages, which of them ship, and which one a request is answered in.

Order of choice: the signed-in person's own choice, else their agency's language,
else (signed in or not) the language picked with the switch on a public page
(a cookie), else the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

from flask import Flask, current_app
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

# Code (as Babel and the translations/ folder spell it): (name in that language, HTML lang).
UN_LANGUAGES: dict[str, tuple[str, str]] = {
    "ar": ("العربية", "ar"),
    "zh_Hans": ("中文（简体）", "zh-Hans"),
    "en": ("English", "en"),
    "fr": ("Français", "fr"),
    "ru": ("Русский", "ru"),
    "es": ("Español", "es"),
}
RIGHT_TO_LEFT = frozenset({"ar"})
DEFAULT = "en"
COOKIE = "language"
# Browsers send region or script tags; the first subtag is enough to pick ours,
# except Chinese, which we ship in simplified script only.
PRIMARY_TAGS = {"zh": "zh_Hans"}


@cache
def shipped_in(translations_dir: str) -> tuple[str, ...]:
    """English plus every UN language whose compiled catalogue is present."""
    folder = Path(translations_dir)
    found = {code for code in UN_LANGUAGES
             if (folder / code / "LC_MESSAGES" / "messages.mo").is_file()}
    return tuple(code for code in UN_LANGUAGES if code == DEFAULT or code in found)


def shipped(app: Flask | None = None) -> tuple[str, ...]:
    """The languages this instance offers (configured, or found in its translations folder)."""
    app = app or current_app
    configured = app.config.get("LANGUAGES")
    if configured:
        return tuple(configured)
    # Looked for once per app and folder (Flask-Babel loads catalogues once per process
    # too): every page asks, and the answer is six file checks.
    folder = app.config["TRANSLATIONS_DIR"]
    found = app.extensions.setdefault("waymark_shipped_languages", {})
    if folder not in found:
        found[folder] = shipped_in(folder)
    return found[folder]


def normalise(code: str | None, offered: Iterable[str]) -> str | None:
    """Our code for a language tag (``fr-CA`` -> ``fr``, ``zh-CN`` -> ``zh_Hans``), if offered."""
    if not code or len(code) > 35:
        return None
    offered = tuple(offered)
    tag = code.strip().replace("-", "_")
    for candidate in offered:
        if candidate.lower() == tag.lower():
            return candidate
    primary = tag.split("_", 1)[0].lower()
    mapped = PRIMARY_TAGS.get(primary, primary)
    return mapped if mapped in offered else None


def choose(user_language: str | None, agency_language: str | None, cookie: str | None,
           accepted: Iterable[str], offered: Iterable[str]) -> str:
    """The language to answer in, by the order above."""
    offered = tuple(offered)
    for choice in (user_language, agency_language, cookie, *accepted):
        found = normalise(choice, offered)
        if found:
            return found
    return DEFAULT


@lru_cache(maxsize=4096)
def choose_for_request(user_language: str | None, agency_language: str | None,
                       cookie: str | None, accept_header: str, offered: tuple[str, ...]) -> str:
    """``choose`` for one request's raw inputs, remembered: every page asks, and readers
    share a few combinations of settings and ``Accept-Language`` headers."""
    accepted = parse_accept_header(accept_header, LanguageAccept).values()
    return choose(user_language, agency_language, cookie, accepted, offered)


def direction(code: str) -> str:
    return "rtl" if code in RIGHT_TO_LEFT else "ltr"


def html_lang(code: str) -> str:
    return UN_LANGUAGES.get(code, (code, code.replace("_", "-")))[1]


def native_name(code: str) -> str:
    return UN_LANGUAGES.get(code, (code, code))[0]


def language_of(user) -> str:
    """The language to write to someone in (e-mails, certificates): theirs, else their agency's."""
    agency = getattr(user, "agency", None)
    return user.language or (agency.language if agency is not None else None) or DEFAULT
