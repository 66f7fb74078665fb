"""Flask's signed session cookie, with its serializer built once per key rather than
twice per request.

``SecureCookieSessionInterface`` makes a new ``URLSafeTimedSerializer`` to open the
session and another to save it, on every request. The serializer depends only on the
secret key, its fallbacks and fixed settings, so one is kept per combination of those
(a test or a key rotation that changes the key gets a new one). The cookie, its
signature and its expiry are exactly Flask's.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionCookie(SecureCookieSessionInterface):
    """Flask's session cookie; the signing serializer is reused while the keys stay."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The serializer for the app's current keys (made on first use)."""
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or ()
        keys = (app.secret_key, *fallbacks)
        found = self._serializers.get(keys)
        if found is None:
            found = super().get_signing_serializer(app)
            if len(self._serializers) >= 8:  # keys rarely change; never grow without end
                self._serializers.clear()
            self._serializers[keys] = found
        return found


def init_app(app: Flask) -> None:
    """Use ``SessionCookie`` for the app's sessions."""
    app.session_interface = SessionCookie()
