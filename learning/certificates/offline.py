"""Checking a certificate PDF or payload with only the instance's public files (no database).

A PDF passes three checks: its PAdES signature is this instance's and covers the
whole file; the Ed25519 payload in its metadata is genuine; and the holder, course,
dates and code printed on the page are the payload's.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from asn1crypto.x509 import Certificate as X509Certificate
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from learning.certificates.pades import check_pdf_signature
from learning.certificates.pdf import COURSE_SIZE, DETAILS_SIZE, FOOTER_SIZE, HOLDER_SIZE
from learning.certificates.signing import PayloadError, verify_payload

MIRRORED = str.maketrans(")]}>", "([{<")  # bidi reordering may mirror brackets
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
CODE = re.compile(r"\b[0-9a-f]{32}\b")


@dataclass(frozen=True)
class OfflineResult:
    """A payload whose signature is good, and its status on the day checked."""

    fields: dict
    status: str  # valid | expired


@dataclass
class PdfReport:
    """The checks of a certificate PDF that failed, and its payload if that is genuine."""

    result: OfflineResult | None = None
    failures: list[tuple[str, str]] = field(default_factory=list)  # (check, what is wrong)

    def fail(self, check: str, problem: str) -> None:
        """Record a failed check."""
        self.failures.append((check, problem))


def _status(fields: dict, today: date) -> str:
    expires = fields.get("e")
    return "expired" if expires and today >= date.fromisoformat(expires) else "valid"


def check_payload(payload: str, key: Ed25519PublicKey, today: date) -> OfflineResult:
    """Verify a payload string (raises PayloadError with the reason)."""
    fields = verify_payload(payload, key).fields
    return OfflineResult(fields, _status(fields, today))


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def same_text(shown: str, signed: str) -> bool:
    """Whether printed text reads as the signed text.

    Text mixing right-to-left and left-to-right runs is extracted in visual order,
    so for it the same characters in any order (brackets folded) count as a match.
    """
    shown, signed = _normalise(shown), _normalise(signed)
    if shown == signed:
        return True
    if not any(unicodedata.bidirectional(c) in ("R", "AL") for c in signed):
        return False
    def letters(text: str) -> list[str]:
        return sorted(text.replace(" ", "").translate(MIRRORED))
    return letters(shown) == letters(signed)


def printed_fields(reader: PdfReader) -> dict[float, str]:
    """The text on the pages, joined by font size (the layout gives each field its own)."""
    runs: dict[float, list[str]] = defaultdict(list)

    def visit(text, _cm, _tm, _font, size) -> None:
        if text.strip():
            runs[round(float(size), 1)].append(text)

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    return {size: " ".join(parts) for size, parts in runs.items()}


def _compare_printed(report: PdfReport, printed: dict[float, str], fields: dict) -> None:
    """Record every printed field that differs from the signed record."""
    for size, key, check in ((HOLDER_SIZE, "n", "holder's name"),
                             (COURSE_SIZE, "t", "course title")):
        shown, signed = _normalise(printed.get(size, "")), str(fields.get(key, ""))
        if not same_text(shown, signed):
            report.fail(check, f"the PDF shows '{shown}' but the signed record says "
                               f"'{signed}'")
    dates = ISO_DATE.findall(printed.get(DETAILS_SIZE, ""))
    expiry = [fields["e"]] if fields.get("e") else []
    if dates[:1] != [fields.get("i")]:
        report.fail("issue date", f"the PDF shows {dates[0] if dates else 'none'} but the "
                                  f"signed record says {fields.get('i')}")
    if dates[1:] != expiry:
        report.fail("expiry date", f"the PDF shows {', '.join(dates[1:]) or 'none'} but the "
                                   f"signed record says {fields.get('e') or 'no expiry'}")
    codes = sorted(set(CODE.findall(printed.get(FOOTER_SIZE, ""))))
    if codes != [fields.get("c")]:
        report.fail("certificate code", f"the PDF shows {', '.join(codes) or 'none'} but the "
                                        f"signed record says {fields.get('c')}")


def check_pdf(data: bytes, key: Ed25519PublicKey, trusted: X509Certificate,
              today: date) -> PdfReport:
    """Run every check on a certificate PDF's bytes; the report names each that failed."""
    report = PdfReport()
    for problem in check_pdf_signature(data, trusted):
        report.fail("PDF signature", problem)
    try:
        reader = PdfReader(io.BytesIO(data))
        payload = (reader.metadata or {}).get("/Subject")
        printed = printed_fields(reader)
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as exc:
        report.fail("PDF", f"cannot read the PDF: {exc}")
        return report
    if not payload:
        report.fail("signed record", "the PDF carries no Waymark payload (not a Waymark "
                                     "certificate, or its metadata was removed)")
        return report
    try:
        report.result = check_payload(str(payload), key, today)
    except PayloadError as exc:
        report.fail("signed record", str(exc))
        return report
    _compare_printed(report, printed, report.result.fields)
    return report
