"""A request id on every request and response, and one log line per request.

The id comes from a well-formed ``X-Request-Id`` (set by nginx, or a caller) or is made
here; it is echoed in the response header and printed on error pages as the reference,
so a report from an officer finds its log line. With ``LOG_FORMAT = "json"`` every line
of the app's log is one JSON object and each request adds one line with its method,
path (never the query string), status, duration and user id; secrets are redacted.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

from learning.core.redact import RedactSecrets, escape_controls, redact_secrets

HEADER = "X-Request-Id"
REQUEST_LOGGER = "learning.request"
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")


def id_for(given: str) -> str:
    """The id of a request whose ``X-Request-Id`` was ``given``: it if well-formed, else new."""
    return given if _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex


def request_id() -> str:
    """This request's id (see ``id_for``), kept in g."""
    if "request_id" not in g:
        g.request_id = id_for(request.headers.get(HEADER, ""))
    return g.request_id


class RequestContext(logging.Filter):
    """Stamp each record made during a request with the request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; add ``request_id`` when there is a request."""
        if not hasattr(record, "request_id"):
            record.request_id = request_id() if has_request_context() else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request fields if any."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id", "address")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON (newlines inside are escaped by JSON)."""
        line = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds").replace("+00:00", "Z"),
                "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        for field in self.FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = redact_secrets(record.exc_text)
        return json.dumps(line, ensure_ascii=False)


def json_handler(stream=None) -> logging.Handler:
    """A stream handler writing JSON lines, with request ids and redaction."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    handler.addFilter(RedactSecrets())
    handler.waymark_json = True
    return handler


def _start_timer() -> None:
    g.request_started = time.perf_counter()


_REQUEST_LOG = logging.getLogger(REQUEST_LOGGER)


def _user_id(user) -> int | None:
    """The signed-in user's id, read from its identity: after a commit the user's
    attributes are expired, and ``user.id`` would read the row again (one more
    statement, three round trips on PostgreSQL, on every request that writes)."""
    if user is None or user.is_anonymous:
        return None
    identity = sa.inspect(user).identity
    return identity[0] if identity else None


def _finish(response):
    """Echo the request id, and write the request's line in JSON mode."""
    rid = request_id()
    response.headers[HEADER] = rid
    if _REQUEST_LOG.isEnabledFor(logging.INFO):
        log_request(rid, request.method, request.path, response.status_code,
                    g.get("request_started"),
                    _user_id(g.get("_login_user")),  # only if loaded: no extra query
                    request.remote_addr)
    return response


def log_request(rid: str, method: str, path: str, status: int, started: float | None,
                user_id: int | None, address: str | None) -> None:
    """The request's line in the request log (the path is redacted here)."""
    if not _REQUEST_LOG.isEnabledFor(logging.INFO):
        return
    path = escape_controls(redact_secrets(path))
    # The record is made directly: the caller's frame (which Logger.info looks up) is
    # always the same, and the path is redacted already.
    record = _REQUEST_LOG.makeRecord(
        REQUEST_LOGGER, logging.INFO, __file__, 0, "%s %s %s", (method, path, status), None,
        extra={"request_id": rid, "method": method, "path": path, "status": status,
               "duration_ms": round((time.perf_counter() - started) * 1000, 1)
               if started else None,
               "user_id": user_id, "address": address, "redacted": True})
    _REQUEST_LOG.handle(record)


def configure_logging(app: Flask) -> None:
    """JSON lines on stderr for the app's log (and the request log) when asked for."""
    app_logger = logging.getLogger(app.import_name)
    request_logger = _REQUEST_LOG
    if app.config["LOG_FORMAT"] != "json":
        request_logger.setLevel(logging.WARNING)  # gunicorn or werkzeug logs each request
        ours = [h for h in app_logger.handlers if getattr(h, "waymark_json", False)]
        for handler in ours:  # an earlier app in this process logged JSON: undo it
            app_logger.removeHandler(handler)
        if ours:
            app_logger.setLevel(logging.DEBUG if app.debug else logging.NOTSET)
            app_logger.addHandler(default_handler)
        return
    for handler in list(app_logger.handlers):
        app_logger.removeHandler(handler)  # Flask's default handler, or ours from before
    app_logger.addHandler(json_handler())
    # logging.config.fileConfig (Alembic's env.py, run in-process) disables existing loggers.
    app_logger.disabled = request_logger.disabled = False
    app_logger.setLevel(logging.INFO)
    request_logger.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    """Time every request from its first hook; id and log line on every response."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)
    app.after_request(_finish)
    app.context_processor(lambda: {"request_id": request_id() if has_request_context()
                                   else None})
    configure_logging(app)
