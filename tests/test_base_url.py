"""Links in certificates, e-mails and API pages come from WAYMARK_BASE_URL, never Host."""

from __future__ import annotations

import re
import subprocess
from datetime import date

import pytest

from learning import create_app
from learning.agency.reminders import officer_digest
from learning.api import service as api_service
from learning.config import ConfigurationError
from learning.core.urls import external_url
from learning.extensions import db
from tests.test_certificates import pass_final, read_all_lessons

BASE = "https://training.example/waymark"
EVIL = "http://evil.example"  # the Host header an attacker sends



@pytest.fixture(params=["configured", "unset"])
def base(request, app_config):
    """The address links must use: WAYMARK_BASE_URL, or the local one when unset (tests)."""
    if request.param == "configured":
        app_config["BASE_URL"] = BASE + "/"
        return BASE
    return "http://127.0.0.1:5000"


def _production(tmp_path, monkeypatch, **config):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("WAYMARK_BASE_URL", raising=False)
    monkeypatch.setenv("WAYMARK_INSTANCE_PATH", str(tmp_path))
    return create_app({"SECRET_KEY": "k", **config,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}"})


def test_production_refuses_to_start_without_a_base_url(tmp_path, monkeypatch):
    """Outside debug and testing a missing or malformed address stops the app, helpfully."""
    with pytest.raises(ConfigurationError, match="WAYMARK_BASE_URL=https://"):
        _production(tmp_path, monkeypatch)
    for bad in ("training.example", "javascript:alert(1)", "https://x.example/?a=b",
                "https://user@x.example"):
        with pytest.raises(ConfigurationError, match="not usable"):
            _production(tmp_path, monkeypatch, BASE_URL=bad)
    app = _production(tmp_path, monkeypatch, BASE_URL="https://x.example")
    with app.app_context():
        assert external_url("certificates.verify", code="c") == "https://x.example/verify/c"


def test_debug_without_base_url_uses_the_local_address(tmp_path, monkeypatch):
    """`make dev` needs no address: links point at 127.0.0.1:5000, not at the Host header."""
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.delenv("WAYMARK_BASE_URL", raising=False)
    monkeypatch.setenv("WAYMARK_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    with app.test_request_context("/", base_url=EVIL):
        assert external_url("staff.invite", token="t") == "http://127.0.0.1:5000/invite/t"


@pytest.fixture
def certificate_holder(base, client, make_user, login_as, synced):
    officer = make_user("officer")
    login_as(officer)
    read_all_lessons(client)
    pass_final(client)
    return officer


def test_certificate_qr_code_uses_the_base_url(base, client, certificate_holder, tmp_path):
    """The PDF's QR code and printed link ignore a forged Host header."""
    page = client.get("/certificates/", base_url=EVIL).get_data(as_text=True)
    code = re.search(r"/certificates/([0-9a-f]{32})\.pdf", page).group(1)
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(client.get(f"/certificates/{code}.pdf", base_url=EVIL).data)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)
    decoded = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "page.png")],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert decoded.startswith(f"{base}/verify/{code}?p=WM1.")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "evil.example" not in text and "evil.example" not in decoded


def test_invitation_link_uses_the_base_url(base, client, make_user, login_as, agency):
    """The one-time invitation link shown to the manager ignores the Host header."""
    manager = make_user("manager", agency=agency)
    officer = make_user("officer", agency=agency)
    officer.password_hash = None  # only officers who never had a password are invited
    db.session.commit()
    login_as(manager)
    page = client.post(f"/agency/staff/{officer.id}/invite", base_url=EVIL).get_data(
        as_text=True)
    assert re.search(rf'value="{re.escape(base)}/invite/[A-Za-z0-9_-]+"', page)
    assert "evil.example" not in page


def test_reminder_link_uses_the_base_url(base, app):
    """Reminder e-mails link to the public address, even when queued during a request."""
    with app.test_request_context("/", base_url=EVIL):
        body = officer_digest(1, "Ann", "en", [], date(2030, 1, 7)).body
    assert f"{base}/login?next=/progress/" in body and "evil.example" not in body


def test_api_links_use_the_base_url(base, client, agency, make_user, certificate_holder):
    """Pagination links, certificate verify links and the OpenAPI server ignore Host."""
    make_user("officer", agency=agency)
    _token, raw = api_service.create_token(make_user("manager", agency=agency), "HR")
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    page = client.get("/api/v1/officers?per_page=1", headers=headers, base_url=EVIL).get_json()
    assert page["next"].startswith(f"{base}/api/v1/officers?")
    certificates = client.get("/api/v1/certificates", headers=headers,
                              base_url=EVIL).get_json()["data"]
    assert certificates and all(c["verify_url"].startswith(f"{base}/verify/")
                                for c in certificates)
    document = client.get("/api/v1/openapi.json", base_url=EVIL).get_json()
    assert document["servers"] == [{"url": f"{base}/api/v1"}]
