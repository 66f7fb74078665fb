"""The lesson page for an ordinary signed-in reader, answered before Flask's request machinery.

Reading lessons is most of what Waymark serves. By the time a lesson page is cached
(``catalogue.lesson_fill``) the page costs one statement and a join of bytes, and
Flask's per-request work around it (contexts, the session and user proxies, a dozen
hooks, the response object) costs several times more. This middleware answers the
ordinary case itself, with the same functions the view uses:

- ``GET /courses/<course>/<lesson>/`` with no query string and no body;
- a valid, unexpired session cookie of a signed-in user whose session generation
  still holds and whose account is active, seen from the browser and address it was
  signed in from (Flask-Login's session protection), with no flashed message waiting
  and nothing else in it, and the second factor given where the role needs one;
- the course published, the lesson in its current version, and every piece of the
  page (and the session's signed CSRF token) already cached.

Anything else, and any error, goes to Flask untouched, which answers it as it always
did (and fills the caches for next time): this path writes nothing, so nothing is done
twice, and a row it read is handed to the view's user loader rather than read again.
What it sends is what the view sends, byte for byte and header for header, and it
writes the same request-log line. ``tests/test_lesson_fast_path.py`` compares the two
for many readers, and fails when a request hook is added to the app that this path
has not been reviewed against.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from hashlib import sha512
from typing import Any

from babel import Locale
from flask import Flask
from werkzeug.sansio.http import parse_cookie  # what Flask's request.cookies uses

from learning.accounts.mfa import PRIVILEGED_ROLES
from learning.accounts.sessions import MFA_AT, MFA_STATE
from learning.accounts.signed_in import user_and_agency_values
from learning.catalogue.lesson_fill import Missing, Reader, lesson_bytes
from learning.catalogue.pages import PageCaches
from learning.core.csrf import FIELD as CSRF_FIELD
from learning.core.csrf import known_token
from learning.core.headers import page_headers
from learning.core.inputs import ascii_int
from learning.core.session_cookie import SessionCookie
from learning.extensions import db
from learning.languages.service import COOKIE as LANGUAGE_COOKIE
from learning.languages.service import choose_for_request, shipped
from learning.ops.requestlog import HEADER as REQUEST_ID_HEADER
from learning.ops.requestlog import id_for, log_request
from learning.progress.service import MAX_SLUG, lessons_read, reader_row

_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
LESSON_PATH = re.compile(f"/courses/({_SLUG})/({_SLUG})/")
# What a signed-in session holds (Flask-Login's keys, the CSRF token, the second factor);
# a session holding anything else (a flashed message, a pending sign-in) goes to Flask.
SESSION_KEYS = frozenset({"_user_id", "_fresh", "_id", CSRF_FIELD, MFA_STATE, MFA_AT})
READER_ROLES = frozenset({"officer", "trainer", "manager", "admin"})  # login_required

# A row read here for a page left to the view: (user id, course slug, row), for the user
# loader to use instead of reading it again (see create_app).
READER_ROW = "waymark.reader_row"

StartResponse = Callable[..., Any]


def session_identifier(environ: dict[str, Any]) -> str:
    """Flask-Login's ``_create_identifier`` for a WSGI environ (address and browser)."""
    address = environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR"))
    if address is not None:
        address = address.encode("utf-8").split(b",")[0].strip()
    agent = environ.get("HTTP_USER_AGENT")
    if agent is not None:
        agent = agent.encode("utf-8")
    return sha512(f"{address}|{agent}".encode()).hexdigest()


class LessonFastPath:
    """WSGI middleware: ordinary lesson GETs answered here, everything else by ``wsgi_app``."""

    def __init__(self, app: Flask, wsgi_app: Callable[[dict, StartResponse], Iterable[bytes]]):
        self.app = app
        self.wsgi_app = wsgi_app
        self.served = 0  # answered here (tests and benches read it; a count, not a lock)
        self.failures = 0
        self._engine = None
        self._locales: dict[str, str] = {}

    def _applies(self) -> bool:
        """False under settings that would change Flask's answer to every such request:
        trusted hosts or a server name (refused or unknown hosts), Flask-Login refreshing
        its cookie on every request, CSRF checks on GET; or another session interface."""
        config = self.app.config
        return bool(config["LESSON_FAST_PATH"]) \
            and isinstance(self.app.session_interface, SessionCookie) and not (
            config.get("TRUSTED_HOSTS") or config.get("SERVER_NAME")
            or config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST")
            or "GET" in (config.get("WTF_CSRF_METHODS") or ()))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse):
        if environ.get("REQUEST_METHOD") == "GET" and not environ.get("QUERY_STRING") \
                and not environ.get("SCRIPT_NAME") and self._applies():
            match = LESSON_PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match is not None:
                started = time.perf_counter()
                try:
                    answer = self._answer(environ, match[1], match[2])
                except Exception:  # noqa: BLE001  (Flask answers it, and reports its own)
                    answer = None
                    self.failures += 1
                    if self.failures & (self.failures - 1) == 0:  # 1st, 2nd, 4th, 8th...:
                        self.app.logger.warning(  # seen, without a line per request
                            "the lesson fast path failed (%d times); the page is left to "
                            "Flask", self.failures, exc_info=True)
                if answer is not None:
                    self.served += 1
                    body, user_id = answer
                    rid = id_for(environ.get("HTTP_X_REQUEST_ID", ""))
                    start_response("200 OK", [
                        ("Content-Type", "text/html; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                        *page_headers(bool(self.app.config.get("SESSION_COOKIE_SECURE"))),
                        (REQUEST_ID_HEADER, rid), ("Vary", "Cookie")])
                    log_request(rid, "GET", environ["PATH_INFO"], 200, started, user_id,
                                environ.get("REMOTE_ADDR"))
                    return [body]
        return self.wsgi_app(environ, start_response)

    def _engine_of_app(self):
        if self._engine is None:
            with self.app.app_context():
                self._engine = db.engine
        return self._engine

    def _locale(self, code: str) -> str:
        """What ``str(flask_babel.get_locale())`` gives for the selector's ``code``."""
        found = self._locales.get(code)
        if found is None:
            found = self._locales.setdefault(code, str(Locale.parse(code)))
        return found

    def _session(self, environ: dict[str, Any], cookies) -> Mapping | None:
        """The session's contents when it is an ordinary signed-in one, else None."""
        app = self.app
        value = cookies.get(app.config["SESSION_COOKIE_NAME"])
        if not value:
            return None
        data = app.session_interface.contents(app, value)  # verified as Flask would
        if not isinstance(data, Mapping) or not data.keys() <= SESSION_KEYS:
            return None
        # Seen from elsewhere, Flask-Login marks the session not fresh: a cookie to send.
        return data if data.get("_id") == session_identifier(environ) else None

    def _answer(self, environ: dict[str, Any], course_slug: str, lesson_slug: str
                ) -> tuple[bytes, int] | None:
        """(body, user id) of the page, or None for Flask to answer."""
        app, config = self.app, self.app.config
        if len(course_slug) > MAX_SLUG or environ.get("CONTENT_LENGTH") not in (None, "", "0") \
                or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        cookies = parse_cookie(environ.get("HTTP_COOKIE"))  # Latin-1, as Flask reads it
        data = self._session(environ, cookies)
        if data is None or not isinstance(data.get("_user_id"), str) \
                or not isinstance(data.get(CSRF_FIELD), str):
            return None
        user_id, _, generation = (ascii_int(part) for part in data["_user_id"].partition(":"))
        csrf = known_token(app, data[CSRF_FIELD])
        if user_id is None or generation is None or csrf is None:
            return None
        row = reader_row(self._engine_of_app(), user_id, course_slug)
        if row is None:
            return None
        environ[READER_ROW] = (user_id, course_slug, row)  # if the view answers after all
        user, agency = user_and_agency_values(row)
        role = user["role"]
        if user["session_generation"] != generation or not user["active"] \
                or role not in READER_ROLES or (config["REQUIRE_MFA"] and role in PRIVILEGED_ROLES
                                                and data.get(MFA_STATE) != "verified"):
            return None
        _course_id, version_id, read = row[-3:]
        caches = PageCaches.of(app)
        page = caches.version.peek(("lesson", version_id, lesson_slug))
        if version_id is None or page is None:
            return None
        cookie = cookies.get(LANGUAGE_COOKIE)
        locale = self._locale(choose_for_request(
            user["language"], agency["language"] if agency else None,
            cookie[:64] if cookie else None, environ.get("HTTP_ACCEPT_LANGUAGE", "")[:512],
            shipped(app)))
        reader = Reader(role, user["display_name"], agency["jurisdiction"] if agency else None)
        try:
            body = lesson_bytes(caches, page, lessons_read(read), reader, locale, csrf, "", None)
        except Missing:
            return None
        return body, user_id


def init_app(app: Flask) -> None:
    """Answer ordinary lesson GETs before Flask (set ``LESSON_FAST_PATH = False`` to stop)."""
    app.config.setdefault("LESSON_FAST_PATH", True)
    fast_path = LessonFastPath(app, app.wsgi_app)
    app.extensions["waymark_lesson_fast_path"] = fast_path
    app.wsgi_app = fast_path  # type: ignore[method-assign]
