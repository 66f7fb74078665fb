"""Text the database keeps but cannot read by itself: queued messages holding a live link.

Reset, welcome and invitation links are bearer secrets. The account tables keep only
their tokens' hashes, so a copied database (a backup, a dump handed to someone) opens no
account; an outbox row holding the link in clear would undo that until it is sent. Such
a body is sealed with Fernet (AES with an HMAC, from ``cryptography``) under a key
derived from the app's secret key, and opened only by the sender. A row sealed under an
earlier secret key cannot be opened: its link is refused, and the owner asks for a new
one.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "sealed:v1:"


class SealBroken(ValueError):
    """A sealed text that this secret key cannot open (another key, or changed bytes)."""


@lru_cache(maxsize=4)
def _fernet(secret_key: str | bytes) -> Fernet:
    material = secret_key if isinstance(secret_key, bytes) else secret_key.encode()
    key = HKDF(algorithm=SHA256(), length=32, salt=None,
               info=b"waymark sealed outbox v1").derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str) -> str:
    """``text`` encrypted and authenticated under the app's secret key."""
    token = _fernet(current_app.secret_key).encrypt(text.encode())
    return PREFIX + token.decode("ascii")


def is_sealed(text: str) -> bool:
    """True for a text ``seal`` made."""
    return text.startswith(PREFIX)


def unseal(text: str) -> str:
    """The text ``seal`` was given; any other text unchanged (rows older than sealing)."""
    if not is_sealed(text):
        return text
    try:
        return _fernet(current_app.secret_key).decrypt(text[len(PREFIX):].encode()).decode()
    except InvalidToken as exc:
        raise SealBroken("sealed under another secret key, or altered") from exc
