"""Ed25519-signed certificate payloads that can be checked without the database.

A payload is ``WM1.<base64url JSON>.<base64url signature>``. The key pair is made
on first use in the instance folder (never in the repository); the public key
file is what an offline verifier needs.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from learning.core.files import create_once, replace_whole

PREFIX = "WM1"
PRIVATE_KEY_FILE = "certificate_signing_key.pem"
PUBLIC_KEY_FILE = "certificate_signing_key.pub.pem"


class PayloadError(ValueError):
    """A payload that is malformed, altered, or signed by another key; says which."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_private_key(instance_path: str | Path) -> Ed25519PrivateKey:
    """The instance's signing key, created (readable by its owner only) if missing."""
    folder = Path(instance_path)
    path = folder / PRIVATE_KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise PayloadError(f"{path} does not hold an Ed25519 key")
        public = folder / PUBLIC_KEY_FILE
        if not public.exists() or public.read_bytes() != _public_pem(key):
            _write_public_key(folder, key)  # not written yet by its maker, lost, or stale
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    if not create_once(path, pem):  # another process made it first: use theirs
        return load_or_create_private_key(instance_path)
    _write_public_key(folder, key)  # replaces a public key left from an older private key
    return key


def _public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _write_public_key(folder: Path, key: Ed25519PrivateKey) -> None:
    """Write the public half whole. It is derived from the key, as the PDF signing
    certificate file is: every process holding the key may write it (the same bytes)."""
    replace_whole(folder / PUBLIC_KEY_FILE, _public_pem(key), mode=0o644)


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A public key from a PEM file (the ``.pub.pem`` beside the private key)."""
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise PayloadError(f"{path} does not hold an Ed25519 public key")
    return key


def sign_payload(fields: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """Canonical JSON of ``fields``, signed."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return f"{PREFIX}.{_b64encode(body)}.{_b64encode(key.sign(body))}"


@dataclass(frozen=True)
class VerifiedPayload:
    """The fields of a payload whose signature checked out."""

    fields: dict[str, Any]


def verify_payload(payload: str, public_key: Ed25519PublicKey) -> VerifiedPayload:
    """Check a payload's shape and signature; raise PayloadError with the reason."""
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise PayloadError(f"not a Waymark certificate payload (expected '{PREFIX}.….…')")
    try:
        body, signature = _b64decode(parts[1]), _b64decode(parts[2])
        fields = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("the payload is damaged and cannot be read") from exc
    try:
        public_key.verify(signature, body)
    except InvalidSignature as exc:
        raise PayloadError("the signature does not match: the payload was altered or was "
                           "not signed by this instance") from exc
    if not isinstance(fields, dict):
        raise PayloadError("the payload is damaged and cannot be read")
    return VerifiedPayload(fields)
