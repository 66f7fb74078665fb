"""Logs without secrets: tokens in paths and query strings redacted, line breaks escaped.

Invitation and reset links, verify codes and signed certificate payloads are bearer
secrets: whoever reads them in a log could use them. User text in a log line could
forge further lines, so CR, LF and other control characters are written escaped.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

REDACTED = "[redacted]"
# A path segment after these prefixes is a secret (also inside an encoded ?next= value).
_SECRET_PATH = re.compile(
    r"((?:/|%2F)(?:invite|reset|verify|certificates)(?:/|%2F))[^/?#&\s\"']+", re.IGNORECASE)
# Query and form values that carry secrets, and cookies named in a log line.
_SECRET_VALUE = re.compile(
    r"(\b(?:p|token|code|password|secret|session|remember_token)=)[^&\s\"';#]+",
    re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def redact_secrets(text: str) -> str:
    """``text`` with secret path segments and query values replaced by [redacted]."""
    text = _SECRET_PATH.sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_VALUE.sub(lambda m: m.group(1) + REDACTED, text)


def escape_controls(text: str) -> str:
    r"""CR and LF as \r and \n (other control characters as \xNN): one record, one line."""
    named = {"\r": "\\r", "\n": "\\n"}
    return _CONTROL.sub(lambda m: named.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


class RedactSecrets(logging.Filter):
    """Rewrite each record's message (and traceback) without secrets or raw line breaks."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; only its text changes."""
        if getattr(record, "redacted", False):  # made from redacted parts (request lines)
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format string: log it as given
            message = str(record.msg)
        clean = escape_controls(redact_secrets(message))
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True


def install_redaction(*loggers: logging.Logger) -> None:
    """Add ``RedactSecrets`` to each logger and to its handlers (once)."""
    for logger in loggers:
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, RedactSecrets) for f in target.filters):
                target.addFilter(RedactSecrets())


def init_app(app: Flask) -> None:
    """Redact the app's log and the development server's request log."""
    install_redaction(app.logger, logging.getLogger("werkzeug"))
