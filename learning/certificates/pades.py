"""PAdES signatures on certificate PDFs, by the instance's own X.509 certificate.

The PDF signature uses a separate ECDSA P-256 key with a self-signed certificate,
not the Ed25519 payload key: ECDSA P-256 with SHA-256 is what every PAdES
validator (Acrobat, Foxit, the EU's DSS) checks, while EdDSA in PDF (ISO 32002)
is still missing from many readers. Both files are made on first use in the
instance folder, readable by their owner only; the ``.crt.pem`` file is the trust
root an offline verifier needs.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from learning.core.files import create_once, replace_whole

KEY_FILE = "certificate_pdf_signing.pem"  # the private key and its certificate
CERT_FILE = "certificate_pdf_signing.crt.pem"  # the certificate alone, for verifiers
FIELD_NAME = "WaymarkSignature"
RESERVED_BYTES = 8192  # room for the CMS blob; saves pyHanko a dry-run signature per PDF
VALID_YEARS = 30  # printed certificates must stay checkable for as long as they are kept


class PdfSignatureError(ValueError):
    """The instance's PDF signing files are missing or unusable; says which."""


def _new_key_and_certificate(common_name: str) -> bytes:
    """A fresh P-256 key and a self-signed certificate for it, as one PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Waymark"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365 * VALID_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256()))
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()) + \
        certificate.public_bytes(serialization.Encoding.PEM)


def load_or_create_key_files(instance_path: str | Path,
                             common_name: str = "Waymark certificates"
                             ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The instance's PDF signing key and certificate, created (owner-only) if missing."""
    folder = Path(instance_path)
    path = folder / KEY_FILE
    if not path.exists():  # a concurrent worker's file wins (and is read below)
        create_once(path, _new_key_and_certificate(common_name))
    data = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=None)
        certificate = x509.load_pem_x509_certificate(
            data[data.index(b"-----BEGIN CERTIFICATE-----"):])
    except ValueError as exc:
        raise PdfSignatureError(f"{path} does not hold a private key and its certificate"
                                ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or \
            certificate.public_key().public_numbers() != key.public_key().public_numbers():
        raise PdfSignatureError(f"{path}: the certificate does not belong to the key")
    public = certificate.public_bytes(serialization.Encoding.PEM)
    cert_path = folder / CERT_FILE
    if not cert_path.exists() or cert_path.read_bytes() != public:  # derived: rewrite it
        replace_whole(cert_path, public)
    return key, certificate


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@lru_cache(maxsize=8)
def pdf_signer(instance_path: str) -> SimpleSigner:
    """The instance's pyHanko signer, loaded once per process (signing stays cheap)."""
    key, certificate = load_or_create_key_files(instance_path)
    cert = _asn1_certificate(certificate)
    key_info = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return SimpleSigner(signing_cert=cert, signing_key=key_info,
                        cert_registry=SimpleCertificateStore.from_certs([cert]))


SIGNATURE_META = PdfSignatureMetadata(
    field_name=FIELD_NAME, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES,
    certify=True, docmdp_permissions=MDPPerm.NO_CHANGES, reason="Waymark certificate")


def sign_pdf(pdf: bytes, signer: SimpleSigner) -> bytes:
    """``pdf`` with a PAdES B-B certification signature appended (no changes allowed after)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = PdfSigner(SIGNATURE_META, signer).sign_pdf(writer, bytes_reserved=RESERVED_BYTES)
    return output.getvalue()


def load_trusted_certificate(path: str | Path) -> asn1_x509.Certificate:
    """An instance certificate from a PEM file (the ``.crt.pem`` in the instance folder)."""
    try:
        return _asn1_certificate(x509.load_pem_x509_certificate(Path(path).read_bytes()))
    except ValueError as exc:
        raise PdfSignatureError(f"{path} does not hold a PEM certificate") from exc


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """Silence pyHanko's warnings (a traceback for another instance's signer): we report it."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def check_pdf_signature(pdf: bytes, trusted: asn1_x509.Certificate) -> list[str]:
    """What is wrong with the PDF's signature (empty when this instance signed all of it)."""
    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return [f"the PDF's signature cannot be read ({exc})"]
    if not signatures:
        return ["the PDF is not signed"]
    if len(signatures) > 1:
        return [f"the PDF carries {len(signatures)} signatures; Waymark signs once"]
    try:
        with _quiet_pyhanko():
            status = validate_pdf_signature(signatures[0],
                                            ValidationContext(trust_roots=[trusted]))
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return [f"the PDF's signature cannot be checked ({exc})"]
    problems = []
    if not (status.intact and status.valid):  # then who signed it no longer matters
        problems.append("the signed bytes were changed after signing (the signature does not "
                        "match the document)")
    elif status.signing_cert.dump() != trusted.dump():
        subject = status.signing_cert.subject.human_friendly
        problems.append(f"signed by another instance ({subject}), not by this instance's "
                        "certificate")
    elif not status.trusted:
        problems.append("this instance's certificate is not valid for signing today")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE or status.docmdp_ok is False:
        problems.append("the document was changed after it was signed (an update was "
                        "appended to the signed file)")
    return problems
