"""Interface languages: the order of choice, the switch, right-to-left pages, catalogue checks
and certificates printed in the holder's language and script."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from learning.certificates.pdf import PrintedCertificate, needs_cjk, render_pdf
from learning.config import PROJECT_ROOT
from learning.extensions import db
from learning.languages.catalogues import catalogue_problems, extract_messages, shipped_catalogues
from learning.languages.service import (
    choose,
    choose_for_request,
    direction,
    html_lang,
    normalise,
)
from tests.test_certificates import certificate, officer  # noqa: F401  (fixtures)

OFFERED = ("ar", "zh_Hans", "en", "fr", "ru", "es")
ARABIC = {"Sign in": "تسجيل الدخول", "Language": "اللغة",
          "Certificate of completion": "شهادة إتمام"}
FRENCH = {"Sign in": "Se connecter", "Language": "Langue"}
CHINESE = {"Certificate of completion": "结业证书", "has completed the course": "已完成课程"}


def write_catalogue(folder: Path, locale: str, messages: dict[str, str]) -> Path:
    """A compiled catalogue for ``locale`` under ``folder`` (as `make translations` leaves it)."""
    catalog = Catalog(locale=locale)
    for source, translated in messages.items():
        catalog.add(source, translated)
    target = folder / locale / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.po", "wb") as handle:
        write_po(handle, catalog)
    with open(target / "messages.mo", "wb") as handle:
        write_mo(handle, catalog)
    return target / "messages.po"


@pytest.fixture
def app_config(app_config, tmp_path):
    """Three small catalogues (Arabic, French, Chinese) instead of the shipped ones."""
    folder = tmp_path / "translations"
    write_catalogue(folder, "ar", ARABIC)
    write_catalogue(folder, "fr", FRENCH)
    write_catalogue(folder, "zh_Hans", CHINESE)
    return dict(app_config, TRANSLATIONS_DIR=str(folder),
                BABEL_TRANSLATION_DIRECTORIES=str(folder))


def page_language(html: str) -> tuple[str, str]:
    head = html.split("<head>", 1)[0]
    lang = head.split('lang="', 1)[1].split('"', 1)[0]
    return lang, head.split('dir="', 1)[1].split('"', 1)[0]


# ---------------------------------------------------------------- choosing


def test_choice_order_user_then_agency_then_switch_then_browser():
    assert choose("ru", "fr", "es", ["ar"], OFFERED) == "ru"
    assert choose(None, "fr", "es", ["ar"], OFFERED) == "fr"
    assert choose(None, None, "es", ["ar"], OFFERED) == "es"
    assert choose(None, None, None, ["de", "ar-EG"], OFFERED) == "ar"
    assert choose(None, None, None, ["de"], OFFERED) == "en"
    # A choice of a language this instance does not ship falls through to the next.
    assert choose("de", "fr", None, [], OFFERED) == "fr"
    assert choose("ar", None, None, [], ("en", "fr")) == "en"


@pytest.mark.parametrize("tag, expected", [
    ("zh-CN", "zh_Hans"), ("zh-Hans-CN", "zh_Hans"), ("ZH_hans", "zh_Hans"), ("fr-CA", "fr"),
    ("es-419", "es"), ("ar", "ar"), ("de-DE", None), ("", None), ("x" * 100, None)])
def test_language_tags_are_normalised(tag, expected):
    assert normalise(tag, OFFERED) == expected


def test_direction_and_html_lang():
    assert (direction("ar"), html_lang("ar")) == ("rtl", "ar")
    assert (direction("zh_Hans"), html_lang("zh_Hans")) == ("ltr", "zh-Hans")


# ---------------------------------------------------------------- pages


def test_browser_language_and_the_switch_for_visitors(client):
    assert page_language(client.get("/login").get_data(as_text=True)) == ("en", "ltr")
    html = client.get("/login", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(
        as_text=True)
    assert page_language(html) == ("fr", "ltr") and "Se connecter" in html

    response = client.post("/language", data={"language": "ar", "next": "/login"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("language=ar") and "HttpOnly" in cookie
    html = client.get("/login", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert page_language(html) == ("ar", "rtl")  # the switch beats the browser
    assert "تسجيل الدخول" in html


def test_every_page_offers_the_switch_with_names_in_their_own_language(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'action="/language"' in html
    assert '<option value="ar" lang="ar">العربية</option>' in html
    assert '<option value="fr" lang="fr">Français</option>' in html
    assert 'value="ru"' not in html  # not shipped in this instance: not offered


def test_signed_in_choice_is_kept_and_empty_means_the_agency_language(
        client, make_user, login_as, agency, isolated_requests):
    agency.language = "fr"
    db.session.commit()
    reader = make_user("officer", agency=agency)
    login_as(reader)
    assert page_language(client.get("/training/").get_data(as_text=True))[0] == "fr"

    client.post("/language", data={"language": "ar", "next": "/training/"})
    db.session.refresh(reader)
    assert reader.language == "ar"
    assert page_language(client.get("/training/").get_data(as_text=True)) == ("ar", "rtl")

    client.post("/language", data={"language": "", "next": "/training/"})
    db.session.refresh(reader)
    assert reader.language is None
    assert page_language(client.get("/training/").get_data(as_text=True))[0] == "fr"


@pytest.mark.parametrize("language", ["xx", "de", "a" * 1000, "ar\x00", "../../etc"])
def test_unknown_languages_are_refused(client, language):
    assert client.post("/language", data={"language": language}).status_code == 400


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil",
                                    "javascript:alert(1)"])
def test_the_switch_never_redirects_off_site(client, target):
    response = client.post("/language", data={"language": "fr", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


# ---------------------------------------------------------------- catalogues


def test_catalogue_problems_are_reported_with_their_lines(tmp_path):
    catalog = Catalog(locale="fr")
    catalog.add("Sign in", "Se connecter")
    catalog.add("Not translated", "")
    catalog.add("Fuzzy one", "Flou", flags=["fuzzy"])
    catalog.add("Hello %(name)s", "Bonjour %(nom)s")
    path = tmp_path / "messages.po"
    with open(path, "wb") as handle:
        write_po(handle, catalog)
    problems = catalogue_problems(path, {"Sign in", "Not translated", "Fuzzy one",
                                         "Hello %(name)s", "New message"})
    text = "\n".join(problems)
    assert f"{path}:" in text
    assert "untranslated 'Not translated'" in text
    assert "fuzzy translation of 'Fuzzy one'" in text
    assert "placeholders" in text and "Hello %(name)s" in text
    assert "missing 'New message'" in text
    assert not any("Sign in" in p for p in problems)


def test_extraction_finds_template_and_python_messages():
    messages = extract_messages(Path(PROJECT_ROOT))
    assert "Skip to main content" in messages  # templates/base.html
    assert "Change language" in messages  # the switch
    assert "Certificate of completion" in messages  # learning/certificates/service.py


def test_shipped_catalogues_are_complete():
    expected = extract_messages(Path(PROJECT_ROOT))
    problems = [problem for po in shipped_catalogues(Path(PROJECT_ROOT) / "translations")
                for problem in catalogue_problems(po, expected)]
    assert problems == []


# ---------------------------------------------------------------- certificates


def pdf_text(data: bytes, tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    return text, fonts


def printed(name: str, title: str = "Certificate of completion") -> PrintedCertificate:
    return PrintedCertificate(
        code="A" * 32, holder_name=name, course_title="Field basics",
        version_label="Version 1", score_label=None, issued_label="Issued 2026-12-02",
        expiry_label="Does not expire", verify_url="http://127.0.0.1/verify/x", payload="p",
        labels={"title": title, "certifies": "This certifies that",
                "completed": "has completed the course", "code": "Code", "verify": "Check"})


def test_chinese_names_print_with_a_cjk_font_only_when_needed(tmp_path):
    assert needs_cjk("王秀英") and not needs_cjk("Анна Петрова فاطمة")
    text, fonts = pdf_text(render_pdf(printed("王秀英")), tmp_path)
    assert "王秀英" in text and "DroidSansFallback" in fonts
    text, fonts = pdf_text(render_pdf(printed("Анна Петрова")), tmp_path)
    assert "Анна Петрова" in text and "DroidSansFallback" not in fonts


def test_certificate_labels_follow_the_holders_language(client, certificate, officer,  # noqa: F811
                                                        tmp_path, isolated_requests):
    officer.language = "ar"
    db.session.commit()
    text, _fonts = pdf_text(client.get(f"/certificates/{certificate.code}.pdf").data, tmp_path)
    # pdftotext may give right-to-left text in either order.
    assert "شهادة إتمام" in text or "إتمام شهادة" in text or "متمإ ةداهش" in text
    assert "Certificate of completion" not in text


def test_common_chinese_uses_a_small_cut_of_the_cjk_font_and_rare_characters_the_whole(
        tmp_path):
    from learning.certificates.pdf import cjk_font_for, font_dir

    cut = cjk_font_for(("王秀英", "结业证书"), font_dir(), tmp_path)
    assert cut.parent == tmp_path and cut.stat().st_size < 1_500_000
    whole = cjk_font_for(("王䶮",), font_dir(), tmp_path)  # U+4DAE is not in GB 2312
    assert whole.stat().st_size > 3_000_000
    assert cjk_font_for(("王秀英",), font_dir(), None) == whole  # no cache folder: no cut
    text, fonts = pdf_text(render_pdf(printed("王秀英"), cache_dir=tmp_path), tmp_path)
    assert "王秀英" in text and "DroidSansFallback" in fonts


def test_certificate_in_chinese_reads_back_with_a_cjk_font(client, certificate, officer,  # noqa: F811
                                                           tmp_path, isolated_requests):
    officer.language = "zh_Hans"
    db.session.commit()
    text, fonts = pdf_text(client.get(f"/certificates/{certificate.code}.pdf").data, tmp_path)
    assert "结业证书" in text and "已完成课程" in text
    assert "DroidSansFallback" in fonts and "Certificate of completion" not in text


def test_a_manager_sets_the_agency_language_and_officers_follow(
        client, make_user, login_as, agency, isolated_requests):
    manager, reader = make_user("manager", agency=agency), make_user("officer", agency=agency)
    login_as(manager)
    assert 'name="language"' in client.get("/agency/settings/").get_data(as_text=True)
    assert client.post("/agency/settings/language", data={"language": "xx"}).status_code == 400
    response = client.post("/agency/settings/language", data={"language": "fr"})
    assert response.status_code == 303
    db.session.refresh(agency)
    assert agency.language == "fr"
    client.post("/logout")
    login_as(reader)
    assert page_language(client.get("/account/").get_data(as_text=True))[0] == "fr"
    client.post("/language", data={"language": "ar", "next": "/account/"})
    html = client.get("/account/").get_data(as_text=True)
    assert page_language(html) == ("ar", "rtl")
    assert '<option value="ar" lang="ar" selected>' in html  # the account page shows the choice


def test_a_signed_in_switch_needs_its_csrf_token(app, client, make_user, login_as):
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/language", data={"language": "fr"}).status_code == 303  # a visitor
    reader = make_user("officer")
    app.config["WTF_CSRF_ENABLED"] = False
    login_as(reader)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/language", data={"language": "ar"}).status_code == 400
    db.session.refresh(reader)
    assert reader.language is None


def test_a_request_language_is_chosen_from_the_raw_header_as_from_the_parsed_one():
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header

    for header in ("fr-CA,fr;q=0.9,en;q=0.8", "de, es;q=0.5, ar;q=0.7", "zh-CN", "", "*",
                   "xx;q=1.0, ru;q=0.1", "en;q=0, fr;q=0.2"):
        parsed = parse_accept_header(header, LanguageAccept).values()
        assert choose_for_request(None, None, None, header, OFFERED) == \
            choose(None, None, None, parsed, OFFERED), header
    # The person's and the agency's choices still come first; the cookie before the header.
    assert choose_for_request("ru", "fr", "es", "ar", OFFERED) == "ru"
    assert choose_for_request(None, "fr", "es", "ar", OFFERED) == "fr"
    assert choose_for_request(None, None, "es", "ar", OFFERED) == "es"
    assert choose_for_request(None, None, "x" * 64, "ar", OFFERED) == "ar"

