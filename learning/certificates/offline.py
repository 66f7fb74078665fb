"""Checking a certificate PDF or payload with only the instance's public key (no database)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from learning.certificates.signing import PayloadError, verify_payload


@dataclass(frozen=True)
class OfflineResult:
    """A payload whose signature is good, and its status on the day checked."""

    fields: dict
    status: str  # valid | expired


def _status(fields: dict, today: date) -> str:
    expires = fields.get("e")
    return "expired" if expires and today >= date.fromisoformat(expires) else "valid"


def check_payload(payload: str, key: Ed25519PublicKey, today: date) -> OfflineResult:
    """Verify a payload string (raises PayloadError with the reason)."""
    fields = verify_payload(payload, key).fields
    return OfflineResult(fields, _status(fields, today))


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def check_pdf(path: Path, key: Ed25519PublicKey, today: date) -> OfflineResult:
    """Verify a certificate PDF: the signed payload in its metadata, and the printed text."""
    try:
        reader = PdfReader(str(path))
        payload = (reader.metadata or {}).get("/Subject")
        text = _normalise(" ".join(page.extract_text() or "" for page in reader.pages))
    except (PdfReadError, OSError, ValueError) as exc:
        raise PayloadError(f"cannot read the PDF: {exc}") from exc
    if not payload:
        raise PayloadError("the PDF carries no Waymark payload (not a Waymark certificate, or "
                           "its metadata was removed)")
    result = check_payload(str(payload), key, today)
    for field, label in (("c", "certificate code"), ("n", "holder's name"),
                         ("t", "course title")):
        if _normalise(str(result.fields.get(field, ""))) not in text:
            raise PayloadError(f"the {label} printed on the PDF does not match the signed "
                               "record: the document was altered")
    return result
