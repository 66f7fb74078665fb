"""Flask's signed session cookie, with its serializer built once per key and each
cookie verified once per process rather than on every request.

``SecureCookieSessionInterface`` makes a new ``URLSafeTimedSerializer`` to open the
session and another to save it, on every request. The serializer depends only on the
secret key, its fallbacks and fixed settings, so one is kept per combination of those
(a test or a key rotation that changes the key gets a new one).

Opening the session checks the cookie's HMAC and decodes it, on every request, though
a browser sends the same cookie until the session changes. A cookie that verified is
remembered (a bounded map, per serializer and exact cookie text) with the time it was
signed: seen again, its age is checked as itsdangerous checks it, and its contents are
copied into the new session. Only contents made of plain values (text, numbers,
booleans) are remembered, so nothing a request changes in place is shared. The
cookie, its signature and its expiry are exactly Flask's; a cookie that never verified
is never remembered.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from learning.core.bounded import BoundedMap

REMEMBERED = 8192  # verified cookies kept per process (a few hundred bytes each)
_PLAIN = (str, int, float, bool, type(None))


class SessionCookie(SecureCookieSessionInterface):
    """Flask's session cookie; the signing serializer is reused while the keys stay,
    and a verified cookie is not verified again until it expires."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}
        self._verified = BoundedMap(REMEMBERED)

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

    def contents(self, app: Flask, value: str) -> Mapping[str, Any] | None:
        """What the session cookie ``value`` holds, or None when it is forged, expired or
        unreadable (or the app has no secret key). Read-only: copy it to change it."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (serializer, value)
        remembered = self._verified.get(key)
        if remembered is not None:
            signed_at, data = remembered
            # itsdangerous's own test, on its signer's clock (which ignores ``self``)
            if 0 <= serializer.signer.get_timestamp(None) - signed_at <= max_age:
                return data
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:  # expired is a bad signature too (SignatureExpired)
            return None
        if isinstance(data, dict) and all(type(item) in _PLAIN for item in data.values()):
            data = MappingProxyType(data)
            self._verified.put(key, (int(signed.timestamp()), data))
        return data

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Flask's ``open_session``, verifying through ``contents``."""
        if self.get_signing_serializer(app) is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        data = self.contents(app, value) if value else None
        return self.session_class(data) if data is not None else self.session_class()


def init_app(app: Flask) -> None:
    """Use ``SessionCookie`` for the app's sessions."""
    app.session_interface = SessionCookie()
