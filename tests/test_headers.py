"""Headers on every response, error pages included; the server never shows a debugger."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from learning import create_app

ROOT = Path(__file__).resolve().parent.parent
CSP_PARTS = ("base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
             "object-src 'none'", "script-src 'self'")


def assert_secure_headers(response, *, no_store: bool = True) -> None:
    """The headers every page carries (and no-store unless it is a cacheable file)."""
    csp = response.headers["Content-Security-Policy"]
    assert all(part in csp for part in CSP_PARTS), csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    cache = response.headers.get("Cache-Control", "")
    assert ("no-store" in cache) == no_store, cache


@pytest.fixture
def boom(app):
    """A route that raises, served as production would (exceptions not propagated)."""
    def explode():
        raise RuntimeError("secret internals: db password hunter2")

    app.add_url_rule("/boom-for-tests", "boom", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return "/boom-for-tests"


def test_error_pages_use_the_layout_and_carry_every_header(app, client, make_user, login_as,
                                                           boom, synced):
    """400, 403, 404, 405, 413, 429 and 500: a page in the site's layout, with all headers."""
    app.config["VERIFY_RATE_LIMIT"] = "1 per minute"
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    anonymous = {
        400: client.get("/login?next=%00"),
        404: client.get("/no-such-page"),
        405: client.put("/login"),
        413: client.post("/login", data=big, content_type="application/x-www-form-urlencoded"),
        500: client.get(boom),
    }
    client.get("/verify/" + "0" * 32)
    anonymous[429] = client.get("/verify/" + "0" * 32)
    login_as(make_user("officer"))
    signed_in = {403: client.get("/admin/"), 404: client.get("/courses/no-such-course/"),
                 500: client.get(boom)}
    for status, response in [*anonymous.items(), *signed_in.items()]:
        assert response.status_code == status
        html = response.get_data(as_text=True)
        assert 'class="site-header"' in html and "</html>" in html, status
        assert_secure_headers(response)
    # The 500 page is the plain one: no traceback, no exception text.
    html = anonymous[500].get_data(as_text=True)
    assert "Something went wrong" in html
    assert "Traceback" not in html and "hunter2" not in html and "RuntimeError" not in html


def test_api_errors_are_json_with_headers(client):
    """Under /api/ errors stay JSON, with the same headers."""
    response = client.get("/api/v1/officers")
    assert response.status_code == 401 and response.is_json
    assert_secure_headers(response)


def test_no_store_on_pages_but_not_on_static_files(client, make_user, login_as, synced):
    """Pages (signed in or not) are never cached; content-named static files are."""
    assert_secure_headers(client.get("/login"))
    assert_secure_headers(client.get("/healthz"))
    login_as(make_user("officer"))
    for path in ("/courses/", "/courses/field-basics/", "/courses/field-basics/first-steps/",
                 "/progress/", "/certificates/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_secure_headers(response)
    page = client.get("/courses/").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/css/[^"]+)"', page).group(1)
    response = client.get(stylesheet)
    assert response.status_code == 200
    assert_secure_headers(response, no_store=False)
    assert "max-age" in response.headers["Cache-Control"]


def test_hsts_only_when_cookies_are_secure(app, client):
    """HSTS for a year, subdomains included, exactly when the cookies need HTTPS."""
    for secure in (True, False):
        app.config["SESSION_COOKIE_SECURE"] = secure
        for response in (client.get("/login"), client.get("/no-such-page")):
            if secure:
                assert response.headers["Strict-Transport-Security"] == \
                    "max-age=31536000; includeSubDomains"
            else:
                assert "Strict-Transport-Security" not in response.headers


def make_target(name: str) -> str:
    """The recipe of a Makefile target, continuation lines joined."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(rf"^{name}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, f"no {name} target"
    return match.group(1)


def test_the_debugger_is_never_reachable(tmp_path, monkeypatch):
    """`make run` starts gunicorn without debug (never `flask run`), and create_app
    without FLASK_DEBUG keeps debug off: an exception becomes the plain 500 page."""
    server = make_target("run").strip().splitlines()[-1]
    assert "gunicorn" in server and "-c gunicorn.conf.py" in server
    assert "127.0.0.1:$(PORT)" in server
    assert "WAYMARK_BASE_URL=http://127.0.0.1:$(PORT)" in server
    assert "WAYMARK_REQUIRE_MFA=0" in server
    assert "flask run" not in server and "--debug" not in server
    assert "-u FLASK_DEBUG" in server and "FLASK_DEBUG=1" not in server
    assert "flask run --debug" in make_target("dev")

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("WAYMARK_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SECRET_KEY": "k", "BASE_URL": "https://waymark.test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    assert app.debug is False and app.config["PROPAGATE_EXCEPTIONS"] is None

    def explode():
        raise RuntimeError("internals")

    app.add_url_rule("/explode", "explode", explode)
    response = app.test_client().get("/explode")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in html and "Werkzeug Debugger" not in html and "internals" not in html


def test_headers_a_view_set_are_kept(app):
    """Only missing headers are added (in any letter case), and a Cache-Control that
    already forbids storing is left as the view wrote it."""
    from flask import Response

    from learning.core.headers import security_headers

    with app.test_request_context("/courses/"):
        mine = Response("x", headers={"x-frame-options": "SAMEORIGIN",
                                      "Cache-Control": "private, no-store"})
        headers = security_headers(mine).headers
        assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
        assert headers.getlist("Cache-Control") == ["private, no-store"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        cached = Response("x", headers={"Cache-Control": "max-age=60"})
        assert security_headers(cached).headers.getlist("Cache-Control") == ["no-store"]
