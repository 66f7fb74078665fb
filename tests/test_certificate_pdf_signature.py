"""PAdES-signed certificate PDFs: `flask certificates verify` checks the signature, the
signed payload, and that the printed holder, course, dates and code are the payload's."""

from __future__ import annotations

import io
import re
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from fpdf import FPDF
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf import PdfReader, PdfWriter

from learning.certificates.models import Certificate
from learning.certificates.pades import (
    CERT_FILE,
    KEY_FILE,
    load_trusted_certificate,
    pdf_signer,
    sign_pdf,
)
from learning.certificates.pdf import HOLDER_SIZE, font_dir, render_pdf
from learning.certificates.service import printed_certificate
from learning.extensions import db
from tests.test_certificates import certificates, pass_final, read_all_lessons

HOLDER = "Анна Петрова"
FORGED = "Mallory Forger"


@pytest.fixture
def certificate(make_user, login_as, client, synced) -> Certificate:
    login_as(make_user("officer", name=HOLDER))
    read_all_lessons(client)
    pass_final(client)
    (issued,) = certificates()
    return issued


def download(client, certificate: Certificate) -> bytes:
    response = client.get(f"/certificates/{certificate.code}.pdf")
    assert response.status_code == 200
    return response.data


def verify(runner, tmp_path: Path, data: bytes, *extra: str):
    path = tmp_path / "checked.pdf"
    path.write_bytes(data)
    return runner.invoke(args=["certificates", "verify", str(path), *extra])


def failed_checks(output: str) -> dict[str, str]:
    """The checks the command names as failed, with their messages (joined by ' | ')."""
    failed: dict[str, str] = {}
    for check, message in re.findall(r"^\s+- ([^:]+): (.*)$", output, flags=re.MULTILINE):
        failed[check] = f"{failed[check]} | {message}" if check in failed else message
    return failed


def forged_pdf(certificate: Certificate) -> bytes:
    """The pen-test's attack: the PDF made again by fpdf2 with another holder, keeping the
    genuine signed payload in the metadata and the genuine name in small print."""
    genuine = printed_certificate(certificate)
    labels = dict(genuine.labels, code=f"{HOLDER} · {genuine.labels['code']}")
    return render_pdf(replace(genuine, holder_name=FORGED, labels=labels), fonts=font_dir())


def test_genuine_pdf_is_pades_signed_and_verifies(app, client, runner, certificate, tmp_path):
    data = download(client, certificate)
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    trusted = load_trusted_certificate(Path(app.instance_path) / CERT_FILE)
    assert signature.signer_cert.dump() == trusted.dump()
    for name in (KEY_FILE, CERT_FILE):
        assert stat.S_IMODE((Path(app.instance_path) / name).stat().st_mode) == 0o600
    result = verify(runner, tmp_path, data)
    assert result.exit_code == 0, result.output
    assert "Signature OK. Status on" in result.output and HOLDER in result.output
    assert pdf_signer(app.instance_path) is pdf_signer(app.instance_path)  # loaded once


def test_regenerated_pdf_showing_another_holder_fails(client, runner, certificate, tmp_path,
                                                      app):
    forged = forged_pdf(certificate)
    assert HOLDER in PdfReader(io.BytesIO(forged)).pages[0].extract_text()
    result = verify(runner, tmp_path, forged)
    assert result.exit_code == 1
    failed = failed_checks(result.output)
    assert failed["PDF signature"] == "the PDF is not signed"
    assert failed["holder's name"] == (f"the PDF shows '{FORGED}' but the signed record says "
                                       f"'{HOLDER}'")
    assert set(failed) == {"PDF signature", "holder's name"}
    assert "Signature OK" not in result.output


def test_pdf_signed_by_another_instance_fails(client, runner, certificate, tmp_path, app):
    other = pdf_signer(str(tmp_path / "other-instance"))
    genuine_text = render_pdf(printed_certificate(certificate), fonts=font_dir())
    result = verify(runner, tmp_path, sign_pdf(genuine_text, other))
    assert result.exit_code == 1
    failed = failed_checks(result.output)
    assert set(failed) == {"PDF signature"}
    assert failed["PDF signature"].startswith("signed by another instance")

    result = verify(runner, tmp_path, sign_pdf(forged_pdf(certificate), other))
    assert result.exit_code == 1
    failed = failed_checks(result.output)
    assert failed["PDF signature"].startswith("signed by another instance")
    assert FORGED in failed["holder's name"]

    # Checked against the other instance's certificate, this instance's PDF is the stranger.
    result = verify(runner, tmp_path, download(client, certificate), "--certificate",
                    str(tmp_path / "other-instance" / CERT_FILE))
    assert result.exit_code == 1
    assert failed_checks(result.output)["PDF signature"].startswith("signed by another instance")


def overlay_page() -> PdfReader:
    """A page that paints over the holder's name and prints another one in its place."""
    overlay = FPDF(orientation="landscape", unit="mm", format="A4")
    overlay.add_font("DejaVu", "B", str(font_dir() / "DejaVuSans-Bold.ttf"))
    overlay.add_page()
    overlay.set_fill_color(255, 255, 255)
    overlay.rect(25, 60, 247, 16, style="F")
    overlay.set_font("DejaVu", "B", HOLDER_SIZE)
    overlay.set_xy(25, 62)
    overlay.cell(247, 14, FORGED, align="C")
    return PdfReader(io.BytesIO(bytes(overlay.output())))


def test_incremental_update_after_signing_fails(client, runner, certificate, tmp_path):
    signed = download(client, certificate)
    writer = PdfWriter(io.BytesIO(signed), incremental=True)
    writer.pages[0].merge_page(overlay_page().pages[0])
    updated = io.BytesIO()
    writer.write(updated)
    assert updated.getvalue().startswith(signed)  # the signed revision is untouched
    assert FORGED in PdfReader(updated).pages[0].extract_text()

    result = verify(runner, tmp_path, updated.getvalue())
    assert result.exit_code == 1
    failed = failed_checks(result.output)
    assert failed["PDF signature"].startswith("the document was changed after it was signed")
    assert f"the PDF shows '{HOLDER} {FORGED}'" in failed["holder's name"]

    result = verify(runner, tmp_path, signed + b"\n% a comment appended after signing\n")
    assert result.exit_code == 1
    assert set(failed_checks(result.output)) == {"PDF signature"}


def test_byte_flipped_inside_the_signed_range_fails(client, runner, certificate, tmp_path):
    signed = bytearray(download(client, certificate))
    position = signed.index(b"/CreationDate (D:") + len(b"/CreationDate (D:") + 3
    signed[position] = ord("7") if signed[position] != ord("7") else ord("8")
    result = verify(runner, tmp_path, bytes(signed))
    assert result.exit_code == 1
    failed = failed_checks(result.output)
    assert set(failed) == {"PDF signature"}  # what is printed is unchanged: only the bytes
    assert failed["PDF signature"].startswith("the signed bytes were changed after signing")


def test_printed_dates_and_code_must_match(client, runner, certificate, tmp_path):
    genuine = printed_certificate(certificate)
    altered = replace(genuine, issued_label="Issued 2001-01-01",
                      expiry_label="Valid until 2099-12-31", code="f" * 32)
    data = sign_pdf(render_pdf(altered, fonts=font_dir()), pdf_signer(
        runner.app.instance_path))  # even this instance's signature does not vouch for them
    result = verify(runner, tmp_path, data)
    assert result.exit_code == 1
    failed = failed_checks(result.output)
    assert set(failed) == {"issue date", "expiry date", "certificate code"}
    assert failed["issue date"] == (f"the PDF shows 2001-01-01 but the signed record says "
                                    f"{certificate.issued_on.isoformat()}")
    assert "2099-12-31" in failed["expiry date"] and "f" * 32 in failed["certificate code"]


@pytest.mark.parametrize("name", ["Mary Smith (مريم)", "فاطمة الزهراء", "שרה כהן",
                                  "Nguyễn Thị Minh Khai"])
def test_names_in_every_script_verify(client, runner, certificate, tmp_path, name):
    certificate.holder_name = name
    db.session.commit()
    result = verify(runner, tmp_path, download(client, certificate))
    assert result.exit_code == 0, result.output
    assert name in result.output


def test_unreadable_file_and_missing_certificate_are_clear_errors(runner, certificate, tmp_path,
                                                                  client):
    # Downloaded first: the instance makes its keys on its first signature, and this test
    # may be the first of the run to need them (a fresh clone, tests spread over processes).
    genuine = download(client, certificate)
    result = verify(runner, tmp_path, b"%PDF-1.7\nnot really a PDF")
    assert result.exit_code == 1 and "NOT VALID" in result.output
    assert "PDF signature" in failed_checks(result.output)
    result = verify(runner, tmp_path, genuine, "--certificate", str(tmp_path / "absent.pem"))
    assert result.exit_code == 1 and "No PDF signing certificate at" in result.output


def test_key_files_are_made_once_and_the_certificate_file_follows_the_key(tmp_path):
    from learning.certificates.pades import load_or_create_key_files

    folder = tmp_path / "instance"
    _key, first = load_or_create_key_files(folder)
    key_pem = (folder / KEY_FILE).read_bytes()
    (folder / CERT_FILE).write_bytes(b"someone else's certificate")
    _key, again = load_or_create_key_files(folder)
    assert again == first and (folder / KEY_FILE).read_bytes() == key_pem
    assert load_trusted_certificate(folder / CERT_FILE).dump() == \
        load_trusted_certificate_from(first)
    assert sorted(p.name for p in folder.iterdir()) == sorted([KEY_FILE, CERT_FILE])


def load_trusted_certificate_from(certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return certificate.public_bytes(serialization.Encoding.DER)
