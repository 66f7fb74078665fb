"""Certificates carry the issuing agency and an optional signatory, set on /admin/settings/."""

from __future__ import annotations

import io

import sqlalchemy as sa
from pypdf import PdfReader

from learning.agency.models import AuditEntry
from learning.certificates.models import CertificateIssuer
from learning.extensions import db
from tests.test_certificate_pdf_signature import download, verify
from tests.test_certificates import certificates, pass_final, read_all_lessons

SETTINGS = {"issuer_name": "Border Guard Academy", "signatory_name": "Dr Salma Haddad",
            "signatory_title": "Director of Training"}


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_issuer_and_signatory_are_printed_and_the_pdf_still_verifies(
        client, runner, make_user, login_as, synced, tmp_path, isolated_requests):
    login_as(make_user("admin"))
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert "Signatory" in page
    assert client.post("/admin/settings/", data=SETTINGS).status_code == 302
    assert 'value="Border Guard Academy"' in client.get("/admin/settings/").get_data(
        as_text=True)
    client.post("/logout")

    login_as(make_user("officer", name="Ana Lima"))
    read_all_lessons(client)
    pass_final(client)
    (issued,) = certificates()
    assert (issued.issuer_name, issued.signatory_name, issued.signatory_title) == tuple(
        SETTINGS.values())
    data = download(client, issued)
    text = pdf_text(data)
    assert all(value in text for value in SETTINGS.values()) and "WAYMARK" not in text
    result = verify(runner, tmp_path, data)
    assert result.exit_code == 0, result.output

    # A later change never alters an issued certificate.
    row = db.session.get(CertificateIssuer, 1)
    row.issuer_name, row.signatory_name = "Someone Else", "Another Person"
    db.session.commit()
    text = pdf_text(download(client, issued))
    assert "Border Guard Academy" in text and "Someone Else" not in text


def test_without_settings_the_certificate_prints_waymark_and_no_signatory(
        client, make_user, login_as, synced):
    login_as(make_user("officer"))
    read_all_lessons(client)
    pass_final(client)
    (issued,) = certificates()
    assert issued.issuer_name is None and issued.signatory_name is None
    assert "WAYMARK" in pdf_text(download(client, issued))


def test_bad_issuer_settings_are_refused_and_change_nothing(client, app_ctx, make_user,
                                                           login_as):
    login_as(make_user("admin"))
    client.post("/admin/settings/", data=SETTINGS)
    for data in ({**SETTINGS, "signatory_name": "Dr \u202eHaddad"},
                 {**SETTINGS, "issuer_name": "x" * 201},
                 {**SETTINGS, "signatory_name": "", "signatory_title": "Director"}):
        assert client.post("/admin/settings/", data=data).status_code == 400
    db.session.expire_all()
    row = db.session.get(CertificateIssuer, 1)
    assert (row.issuer_name, row.signatory_name, row.signatory_title) == tuple(SETTINGS.values())
    audit = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "settings.issuer")).all()
    assert len(audit) == 1
