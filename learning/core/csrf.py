"""A page's CSRF token, signed once per session rather than once per request.

Flask-WTF signs the session's raw token (an HMAC with a timestamp) on every request
that shows a form. With no time limit (``WTF_CSRF_TIME_LIMIT = None``) a signed token
never expires, so the one made for a raw token serves that session's next pages as
well as a new one would. It is kept per app in a bounded map keyed by the secret key
and the raw token (the session's own secret), so no session ever gets another's.
"""

from __future__ import annotations

from flask import current_app, g, session
from flask_wtf.csrf import generate_csrf

from learning.core.bounded import BoundedMap

FIELD = "csrf_token"  # Flask-WTF's names: WTF_CSRF_FIELD_NAME is not set here
SIZE = 8192


def _signed_tokens(app) -> BoundedMap:
    """(secret, raw token) -> signed token, for this app."""
    signed = app.extensions.get("waymark_csrf_tokens")
    if signed is None:
        signed = app.extensions.setdefault("waymark_csrf_tokens", BoundedMap(SIZE))
    return signed


def _secret(app) -> str | None:
    """The key tokens are signed with, or None when tokens expire (signed afresh each time)."""
    config = app.config
    if config.get("WTF_CSRF_TIME_LIMIT") is not None \
            or config.get("WTF_CSRF_FIELD_NAME", FIELD) != FIELD:
        return None
    return str(config.get("WTF_CSRF_SECRET_KEY") or app.secret_key)


def known_token(app, raw: str) -> str | None:
    """The signed token already made for a session's raw token, if any (no request needed)."""
    secret = _secret(app)
    return _signed_tokens(app).get((secret, raw)) if secret is not None else None


def csrf_token() -> str:
    """This session's signed CSRF token (the same value ``generate_csrf`` would accept)."""
    if FIELD in g:
        return g.get(FIELD)
    app = current_app._get_current_object()
    secret = _secret(app)
    if secret is None:
        return generate_csrf()  # tokens that expire: sign afresh every time
    signed = _signed_tokens(app)
    raw = session.get(FIELD)
    token = signed.get((secret, raw)) if isinstance(raw, str) else None
    if token is None:
        token = generate_csrf()  # makes the raw token too, for a new session
        signed.put((secret, session[FIELD]), token)
    setattr(g, FIELD, token)  # what generate_csrf (forms, templates) returns from now on
    return token
