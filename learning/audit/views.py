"""Request hooks that audit refusals: every 403 and every failed CSRF check is one row."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from learning.audit.service import record_audit
from learning.core.errors import csrf_failure_page
from learning.extensions import db


def _record_denied(reason: str, status: int) -> None:
    """Discard whatever the refused request changed, then record the refusal on its own."""
    db.session.rollback()
    actor = current_user if current_user and current_user.is_authenticated else None
    record_audit(actor, "request.denied", f"{request.method} {request.path}",
                 {"reason": reason, "status": status}, outcome="denied")
    db.session.commit()


def _audit_forbidden(response: Response) -> Response:
    """A 403, however it was produced (decorator, abort, JSON answer), leaves a denied row."""
    if response.status_code == 403:
        _record_denied("forbidden", 403)
    return response


def _csrf_failed(error: CSRFError):
    """A form posted without a valid CSRF token: refused with 400, recorded, and explained."""
    _record_denied("csrf", error.code or 400)
    return csrf_failure_page(error.code or 400)


def register(app: Flask) -> None:
    """Attach the hooks to the app."""
    app.after_request(_audit_forbidden)
    app.register_error_handler(CSRFError, _csrf_failed)
