"""Logs carry no tokens, codes, payloads or passwords, and user text cannot add lines."""

from __future__ import annotations

import logging
import re
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from gunicorn.config import Config
from sqlalchemy.exc import SQLAlchemyError

from learning.agency import staff
from learning.core.redact import escape_controls, redact_secrets
from learning.extensions import db

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "Zq3-secretInvitationToken_0123456789abcdef"
CODE = "0123456789abcdef0123456789abcdef"
PAYLOAD = "WM1.eyJjIjoiMDEyMyJ9.c2lnbmF0dXJl"


@pytest.mark.parametrize("text,expected", [
    (f"GET /invite/{TOKEN} HTTP/1.1", "GET /invite/[redacted] HTTP/1.1"),
    (f"GET /reset/{TOKEN}?x=1", "GET /reset/[redacted]?x=1"),
    (f"/verify/{CODE}?p={PAYLOAD}&lang=en", "/verify/[redacted]?p=[redacted]&lang=en"),
    (f"/certificates/{CODE}.pdf?paper=a4", "/certificates/[redacted]?paper=a4"),
    (f"/admin/certificates/{CODE}", "/admin/certificates/[redacted]"),
    (f"/login?next=%2Fadmin%2Fcertificates%2F{CODE}",
     "/login?next=%2Fadmin%2Fcertificates%2F[redacted]"),
    ("token=abc&password=hunter2&code=x", "token=[redacted]&password=[redacted]&code=[redacted]"),
    ("/courses/field-basics/first-steps/ 200", "/courses/field-basics/first-steps/ 200"),
])
def test_redact_secrets(text, expected):
    assert redact_secrets(text) == expected


def test_escape_controls():
    assert escape_controls("Bob\r\nINFO forged line\x1b[2J\tok") == \
        "Bob\\r\\nINFO forged line\\x1b[2J\tok"


def _all_logged(caplog) -> str:
    return caplog.text + "".join(r.getMessage() for r in caplog.records)


@pytest.fixture(autouse=True)
def loggers_enabled(monkeypatch):
    """Alembic's fileConfig (run by migration tests in this process) disables existing loggers."""
    for name in ("learning", "werkzeug"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)


def test_request_errors_are_logged_without_the_token(app, client, caplog, monkeypatch):
    """A failing request under /invite/<token> logs the path and traceback redacted."""
    def fail(token):
        raise RuntimeError(f"could not check /invite/{token}")

    monkeypatch.setattr(staff, "check_invitation", fail)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.INFO):
        assert client.get(f"/invite/{TOKEN}?p={PAYLOAD}").status_code == 500
    logged = _all_logged(caplog)
    assert "/invite/[redacted]" in logged and "RuntimeError" in logged
    assert TOKEN not in logged and PAYLOAD not in logged
    # And no logging call anywhere in the package passes form data, answers or secrets.
    call = re.compile(r"(?:log|logger|logging)\.(?:debug|info|warning|error|exception|critical)"
                      r"\((?:[^()]|\([^()]*\))*\)", re.DOTALL)
    calls = [m.group() for path in (ROOT / "learning").rglob("*.py")
             for m in call.finditer(path.read_text())]
    assert calls, "the scan found no logging calls at all"
    for text in calls:
        assert not re.search(r"request\.(form|values|get_json|data)|answers|password|token",
                             text), text


def test_user_text_in_log_lines_has_line_breaks_escaped(app, caplog):
    """CR/LF in user text cannot forge a second log record."""
    with caplog.at_level(logging.INFO):
        app.logger.warning("Reminder to %s failed", "ann@x.test\r\nCRITICAL all is lost")
    (record,) = [r for r in caplog.records if "Reminder" in r.getMessage()]
    assert record.getMessage() == "Reminder to ann@x.test\\r\\nCRITICAL all is lost failed"
    assert "\n" not in record.getMessage() and "\r" not in record.getMessage()


def test_development_server_request_log_is_redacted(app, caplog):
    """`make dev` logs requests through the werkzeug logger: redacted too."""
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('127.0.0.1 - - "%s" %s -',
                                           f"GET /verify/{CODE}?p={PAYLOAD} HTTP/1.1", 200)
    logged = _all_logged(caplog)
    assert "/verify/[redacted]?p=[redacted]" in logged and CODE not in logged


def test_gunicorn_access_log_is_redacted(tmp_path):
    """gunicorn.conf.py's logger class writes access lines without secrets or raw CR/LF."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    cfg = Config()
    for name in ("access_log_format", "logger_class"):
        cfg.set(name, settings[name])
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    logger = cfg.logger_class(cfg)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/verify/{CODE}?p={PAYLOAD}",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1",
               "HTTP_REFERER": f"https://x.example/invite/{TOKEN}",
               "HTTP_USER_AGENT": "agent\r\nforged"}
    response = SimpleNamespace(status="200 OK", sent=12, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=5))
    logger.error("worker saw /reset/%s", TOKEN)
    for handler in (*logger.access_log.handlers, *logger.error_log.handlers):
        handler.flush()
    access = (tmp_path / "access.log").read_text()
    assert "/verify/[redacted]?p=[redacted]" in access and "/invite/[redacted]" in access
    assert CODE not in access and PAYLOAD not in access and TOKEN not in access
    assert "agent\\r\\nforged" in access and access.count("\n") == 1
    error = (tmp_path / "error.log").read_text()
    assert "/reset/[redacted]" in error and TOKEN not in error


def test_database_errors_do_not_carry_parameters(app_ctx):
    """A logged database error names the statement, never the values (answers, hashes)."""
    with pytest.raises(SQLAlchemyError) as error:
        db.session.execute(sa.text("SELECT * FROM no_such_table WHERE x = :v"),
                           {"v": "hunter2-secret"})
    db.session.rollback()
    assert "hunter2-secret" not in str(error.value)
