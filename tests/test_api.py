"""The agency API: tokens, scoping, pagination, change filters, and the OpenAPI contract.

Every JSON body the tests receive is validated against the schema that the served
OpenAPI document gives for that path and status.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from learning.accounts.service import get_or_create_agency
from learning.agency.models import AuditEntry
from learning.agency.service import create_assignment
from learning.api import service
from learning.api.models import ApiToken
from learning.api.openapi import DOCUMENT
from learning.api.params import parse_list_params
from learning.api.queries import list_certificates
from learning.catalogue.models import Course
from learning.certificates.dates import add_months
from learning.certificates.models import Certificate
from learning.certificates.service import revoke_certificate
from learning.extensions import db
from learning.timeutil import utcnow
from tests.test_certificates import pass_final, read_all_lessons

DOC_URI = "urn:waymark:api-v1"
REGISTRY = Registry().with_resource(
    DOC_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def validator_for(template: str, status: int) -> Draft202012Validator:
    """A validator for the body the document promises for ``GET template`` -> ``status``."""
    location = ("paths", template, "get", "responses", str(status))
    response = DOCUMENT["paths"][template]["get"]["responses"].get(str(status))
    assert response is not None, f"the document has no {status} response for {template}"
    if "$ref" in response:
        location = tuple(response["$ref"].removeprefix("#/").split("/"))
    schema = {"$ref": DOC_URI + "#" + _pointer(*location, "content", "application/json",
                                               "schema")}
    return Draft202012Validator(schema, registry=REGISTRY,
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def error_body(response) -> dict:
    """The body of an error without a documented path, checked against the Error schema."""
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    Draft202012Validator({"$ref": DOC_URI + "#/components/schemas/Error"},
                         registry=REGISTRY).validate(body)
    return body


def checked(response, template: str) -> dict:
    """The response's JSON, after checking it against the document (never HTML)."""
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    validator_for(template, response.status_code).validate(body)
    return body


def api_get(client, path: str, token: str | None, template: str | None = None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(f"/api/v1{path}", query_string=params, headers=headers)
    return response, checked(response, template or path)


# The document itself ------------------------------------------------------------------

def test_document_is_valid_openapi_3_1():
    validate_openapi(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")
    for schema in DOCUMENT["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_document_describes_exactly_the_routes(app):
    routes = {rule.rule.removeprefix("/api/v1").replace("<int:officer_id>", "{id}")
              .replace("<int:certificate_id>", "{id}")
              for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") and rule.endpoint != "api.unknown"}
    assert routes == set(DOCUMENT["paths"])


def test_document_is_served_publicly(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == {**DOCUMENT,
                                   "servers": [{"url": "http://127.0.0.1:5000/api/v1"}]}


# Fixtures -----------------------------------------------------------------------------

@pytest.fixture
def world(synced, agency, make_user, make_unit):
    """Agencies A and B, each with a manager, officers and a token."""
    other = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    north = make_unit(agency, "North Post")
    south_b = make_unit(other, "South Station")
    manager_a = make_user("manager", agency=agency, email="boss@a.test")
    manager_b = make_user("manager", agency=other, email="boss@b.test")
    officers_a = [make_user("officer", agency=agency, unit=north, email=f"a{n}@a.test")
                  for n in range(3)]
    officer_b = make_user("officer", agency=other, unit=south_b, email="b0@b.test")
    _token_a, raw_a = service.create_token(manager_a, "HR A")
    _token_b, raw_b = service.create_token(manager_b, "HR B")
    course = db.session.scalar(sa.select(Course))
    return {"agency_a": agency, "agency_b": other, "north": north, "manager_a": manager_a,
            "manager_b": manager_b, "officers_a": officers_a, "officer_b": officer_b,
            "a": raw_a, "b": raw_b, "course": course}


def earn_certificate(client, login_as, officer) -> Certificate:
    """The real way: read every lesson and pass the final."""
    login_as(officer)
    read_all_lessons(client)
    pass_final(client)
    client.post("/logout")
    db.session.expire_all()
    return db.session.scalar(sa.select(Certificate).where(Certificate.user_id == officer.id))


# Tokens -------------------------------------------------------------------------------

def test_tokens_are_stored_hashed_and_shown_once(world):
    token, raw = service.create_token(world["manager_a"], "  Payroll  ")
    assert raw.startswith("wm_") and len(raw) > 40
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:10] and token.name == "Payroll"
    stored = db.session.execute(sa.select(ApiToken.__table__)).all()
    assert all(raw not in str(tuple(row)) for row in stored)
    assert service.authenticate(raw).id == token.id
    assert service.authenticate(raw + "x") is None
    assert service.authenticate("") is None


def test_last_used_is_recorded_but_not_on_every_request(world):
    token = service.authenticate(world["a"], now=datetime(2026, 5, 1, 8, 0))
    assert token.last_used_at == datetime(2026, 5, 1, 8, 0)
    service.authenticate(world["a"], now=datetime(2026, 5, 1, 8, 0, 30))
    assert token.last_used_at == datetime(2026, 5, 1, 8, 0)
    service.authenticate(world["a"], now=datetime(2026, 5, 1, 8, 2))
    assert token.last_used_at == datetime(2026, 5, 1, 8, 2)


@pytest.mark.parametrize("header,error", [
    (None, "missing_token"),
    ("Basic dXNlcjpwYXNz", "missing_token"),
    ("Bearer ", "missing_token"),
    ("Bearer wm_not-a-real-token", "invalid_token"),
])
def test_missing_and_unknown_tokens_get_401_json(client, world, header, error):
    headers = {"Authorization": header} if header else {}
    for path in ("/officers", "/assignments", "/completions", "/certificates"):
        response = client.get(f"/api/v1{path}", headers=headers)
        assert response.status_code == 401
        body = checked(response, path)
        assert body["error"] == error and "token" in body["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_gets_401_at_once(client, world):
    response, _body = api_get(client, "/officers", world["a"])
    assert response.status_code == 200
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "HR A"))
    assert service.revoke_token(world["manager_b"], token.id) is None  # not B's to revoke
    service.revoke_token(world["manager_a"], token.id)
    response, body = api_get(client, "/officers", world["a"])
    assert response.status_code == 401 and body["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    audit = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.target == f"api token {token.id}").order_by(AuditEntry.id)).all()
    assert audit == ["api_token.create", "api_token.revoke"]


def test_a_token_works_until_its_expiry_then_gets_401_saying_so(client, world):
    created = datetime(2026, 5, 1, 8, 0)
    token, raw = service.create_token(world["manager_a"], "Short", days=30, now=created)
    assert token.expires_at == datetime(2026, 5, 31, 8, 0)
    assert service.authenticate(raw, now=datetime(2026, 5, 31, 7, 59)).id == token.id
    with pytest.raises(service.TokenExpired) as expired:
        service.authenticate(raw, now=datetime(2026, 5, 31, 8, 0))
    assert expired.value.expires_at == token.expires_at
    # Through the API, with the real clock: the date has passed.
    response, body = api_get(client, "/officers", raw)
    assert response.status_code == 401 and body["error"] == "invalid_token"
    assert "expired on 2026-05-31" in body["message"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    token.expires_at = None  # a token with no expiry date at all is refused as well
    db.session.commit()
    assert api_get(client, "/officers", raw)[0].status_code == 401
    assert api_get(client, "/officers", world["a"])[0].status_code == 200  # a year: still fine


def test_a_token_lives_at_most_a_year(world):
    for days in (0, 7, 366, 3650):
        with pytest.raises(service.TokenError):
            service.create_token(world["manager_a"], "Too long", days=days)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "HR A"))
    assert token.expires_at - token.created_at <= timedelta(days=365, seconds=1)


def test_a_session_is_not_a_token(client, world, login_as):
    login_as(world["manager_a"])
    response = client.get("/api/v1/officers")
    assert response.status_code == 401
    assert checked(response, "/officers")["error"] == "missing_token"


# Scoping ------------------------------------------------------------------------------

def test_a_token_never_returns_another_agencys_data(client, world, login_as):
    cert_a = earn_certificate(client, login_as, world["officers_a"][0])
    cert_b = earn_certificate(client, login_as, world["officer_b"])
    create_assignment(world["manager_a"], world["course"].id, date(2030, 1, 1), "none", None,
                      [world["north"].id], [])
    create_assignment(world["manager_b"], world["course"].id, date(2030, 1, 1), "none", None,
                      [], [world["officer_b"].email])
    a_emails = {u.email for u in (world["manager_a"], *world["officers_a"])}

    _r, officers = api_get(client, "/officers", world["a"])
    assert {o["email"] for o in officers["data"]} == a_emails
    _r, certificates = api_get(client, "/certificates", world["a"])
    assert [c["id"] for c in certificates["data"]] == [cert_a.id]
    _r, completions = api_get(client, "/completions", world["a"])
    assert [c["officer_email"] for c in completions["data"]] == ["a0@a.test"]
    _r, assignments = api_get(client, "/assignments", world["a"])
    assert [a["units"] for a in assignments["data"]] == [
        [{"id": world["north"].id, "name": "North Post"}]]

    b_filters = [("/officers", {"email": "b0@b.test"}),
                 ("/certificates", {"officer_email": "b0@b.test"}),
                 ("/completions", {"officer_email": "b0@b.test"}),
                 ("/certificates", {"officer_email": "b0@b.test", "course": "field-basics"})]
    for path, params in b_filters:
        response, body = api_get(client, path, world["a"], **params)
        assert response.status_code == 200 and body["data"] == [], (path, params)
    for path, template in ((f"/officers/{world['officer_b'].id}", "/officers/{id}"),
                           (f"/officers/{world['manager_b'].id}", "/officers/{id}"),
                           (f"/certificates/{cert_b.id}", "/certificates/{id}")):
        response, body = api_get(client, path, world["a"], template)
        assert response.status_code == 404 and body["error"] == "not_found"
    response, body = api_get(client, f"/certificates/{cert_a.id}", world["a"],
                             "/certificates/{id}")
    assert response.status_code == 200 and body["officer_email"] == "a0@a.test"
    response, body = api_get(client, f"/officers/{world['officers_a'][1].id}", world["a"],
                             "/officers/{id}")
    assert body["unit"] == {"id": world["north"].id, "name": "North Post"}

    _r, b_view = api_get(client, "/certificates", world["b"])
    assert [c["id"] for c in b_view["data"]] == [cert_b.id]


def test_an_officer_who_moved_agency_leaves_the_old_agencys_answers(client, world):
    moved = world["officers_a"][2]
    create_assignment(world["manager_a"], world["course"].id, date(2030, 1, 1), "none", None,
                      [], [moved.email, world["officers_a"][1].email])
    moved.agency_id, moved.unit_id = world["agency_b"].id, None
    db.session.commit()
    _r, body = api_get(client, "/assignments", world["a"])
    assert [o["email"] for o in body["data"][0]["officers"]] == ["a1@a.test"]
    _r, body = api_get(client, "/officers", world["a"], email=moved.email)
    assert body["data"] == []
    _r, body = api_get(client, "/officers", world["b"], email=moved.email.upper())
    assert [o["id"] for o in body["data"]] == [moved.id]


# Certificates: the question HR asks -----------------------------------------------------

def test_is_this_officer_certified_and_until_when(app, client, world, login_as):
    officer = world["officers_a"][0]
    certificate = earn_certificate(client, login_as, officer)
    today = utcnow().date()
    response, body = api_get(client, "/certificates", world["a"],
                             officer_email=officer.email, course="field-basics")
    assert response.status_code == 200
    [answer] = body["data"]
    assert answer["status"] == "valid"
    assert answer["issued_on"] == today.isoformat()
    assert answer["expires_on"] == add_months(today, 24).isoformat()
    assert answer["code"] == certificate.code and answer["course_version"] == 1
    assert urlsplit(answer["verify_url"]).path == f"/verify/{certificate.code}"
    assert response.headers["Cache-Control"] == "no-store"

    _r, body = api_get(client, "/certificates", world["a"], status="valid")
    assert [c["id"] for c in body["data"]] == [certificate.id]
    _r, body = api_get(client, "/certificates", world["a"], status="expired")
    assert body["data"] == []

    with app.test_request_context():  # the same row on the day it expires
        params = parse_list_params({})
        token = service.authenticate(world["a"])
        on_expiry = add_months(today, 24)
        page = list_certificates(token, params, on_expiry, "https://x.test", status="expired")
        assert [(c["id"], c["status"]) for c in page.items] == [(certificate.id, "expired")]
        day_before = list_certificates(token, params, on_expiry - timedelta(days=1),
                                       "https://x.test")
        assert day_before.items[0]["status"] == "valid"

    revoke_certificate(certificate, "Issued in error", world["manager_a"].id)
    _r, body = api_get(client, "/certificates", world["a"], officer_email=officer.email)
    assert body["data"][0]["status"] == "revoked" and body["data"][0]["revoked_at"]
    _r, body = api_get(client, "/certificates", world["a"], status="valid")
    assert body["data"] == []
    _r, body = api_get(client, "/completions", world["a"], course="field-basics")
    assert [(c["officer_email"], c["cycle"]) for c in body["data"]] == [(officer.email, 0)]
    assert body["data"][0]["score"] == 100


# Pagination and updated_since -----------------------------------------------------------

def test_pages_follow_next_until_null(client, world, make_user):
    for n in range(8):
        make_user("officer", agency=world["agency_a"], email=f"extra{n}@a.test")
    expected = {u.email for u in (world["manager_a"], *world["officers_a"])} | {
        f"extra{n}@a.test" for n in range(8)}
    seen, pages = [], 0
    response, body = api_get(client, "/officers", world["a"], per_page=5)
    while True:
        pages += 1
        assert len(body["data"]) <= 5
        seen += [o["email"] for o in body["data"]]
        if body["next"] is None:
            break
        assert urlsplit(body["next"]).path == "/api/v1/officers"
        response = client.get(body["next"], headers={"Authorization": f"Bearer {world['a']}"})
        body = checked(response, "/officers")
    assert pages == 3 and len(seen) == len(set(seen)) and set(seen) == expected


def test_next_link_keeps_the_filters(client, world, login_as):
    for officer in world["officers_a"][:2]:
        earn_certificate(client, login_as, officer)
    _r, body = api_get(client, "/certificates", world["a"], per_page=1, course="field-basics")
    query = urlsplit(body["next"]).query
    assert "course=field-basics" in query and "per_page=1" in query and "cursor=" in query
    response = client.get(body["next"], headers={"Authorization": f"Bearer {world['a']}"})
    second = checked(response, "/certificates")
    assert second["data"][0]["officer_email"] == "a1@a.test" and second["next"] is None


@pytest.mark.parametrize("params,fragment", [
    ({"per_page": "0"}, "per_page"),
    ({"per_page": "201"}, "per_page"),
    ({"per_page": "ten"}, "per_page"),
    ({"cursor": "abc"}, "cursor"),
    ({"updated_since": "yesterday"}, "ISO-8601"),
    ({"updated_since": "2026-01-01T10:00:00 02:00"}, "%2B"),
    ({"course": "no-such-course"}, "no-such-course"),
    ({"status": "pending"}, "status"),
])
def test_malformed_parameters_get_400_with_a_message(client, world, params, fragment):
    response, body = api_get(client, "/certificates", world["a"], **params)
    assert response.status_code == 400
    assert body["error"] in ("invalid_parameter", "unknown_course")
    assert fragment in body["message"]


def test_updated_since_officers_and_assignments(client, world, make_user):
    late = make_user("officer", agency=world["agency_a"], email="late@a.test")
    late.created_at = datetime(2031, 6, 1, 12, 0)
    db.session.commit()
    _r, body = api_get(client, "/officers", world["a"], updated_since="2031-06-01T12:00:00Z")
    assert [o["email"] for o in body["data"]] == ["late@a.test"]
    assert body["data"][0]["created_at"] == "2031-06-01T12:00:00Z"
    # 14:00 at +02:00 is 12:00 UTC; the '+' is sent encoded.
    response = client.get("/api/v1/officers?updated_since=" + quote("2031-06-01T14:00:00+02:00"),
                          headers={"Authorization": f"Bearer {world['a']}"})
    assert [o["email"] for o in checked(response, "/officers")["data"]] == ["late@a.test"]
    _r, body = api_get(client, "/officers", world["a"], updated_since="2031-06-01T12:00:01Z")
    assert body["data"] == []
    create_assignment(world["manager_a"], world["course"].id, date(2030, 1, 1), "none", None,
                      [world["north"].id], [])
    _r, body = api_get(client, "/assignments", world["a"],
                       updated_since=(utcnow() - timedelta(minutes=5)).isoformat())
    assert len(body["data"]) == 1 and body["data"][0]["course"] == "field-basics"
    _r, body = api_get(client, "/assignments", world["a"], updated_since="2999-01-01")
    assert body["data"] == []


def test_updated_since_certificates_includes_revocations(client, world, login_as):
    certificate = earn_certificate(client, login_as, world["officers_a"][0])
    certificate.created_at = datetime(2020, 1, 1)  # issued long ago
    db.session.commit()
    since = (utcnow() - timedelta(minutes=1)).isoformat() + "Z"
    _r, body = api_get(client, "/certificates", world["a"], updated_since=since)
    assert body["data"] == []
    revoke_certificate(certificate, "Issued in error", None)
    _r, body = api_get(client, "/certificates", world["a"], updated_since=since)
    assert [(c["id"], c["status"]) for c in body["data"]] == [(certificate.id, "revoked")]
    _r, body = api_get(client, "/completions", world["a"], updated_since="2999-01-01")
    assert body["data"] == []


def test_updated_since_certificates_includes_expiries(app, world, client, login_as):
    certificate = earn_certificate(client, login_as, world["officers_a"][0])
    certificate.created_at = datetime(2020, 1, 1)
    db.session.commit()
    expiry = certificate.expires_on
    with app.test_request_context():
        token = service.authenticate(world["a"])

        def changed(since: str, today: date) -> list[int]:
            params = parse_list_params({"updated_since": since})
            return [c["id"] for c in list_certificates(
                token, params, today, "https://x.test").items]

        assert changed(f"{expiry - timedelta(days=3)}T09:00:00", expiry) == [certificate.id]
        assert changed(f"{expiry}T00:00:00", expiry) == [certificate.id]
        assert changed(f"{expiry}T09:00:00", expiry) == []  # expired before that moment
        assert changed(f"{expiry - timedelta(days=3)}", expiry - timedelta(days=1)) == []


def test_lists_cost_the_same_statements_whatever_their_length(client, world, make_user,
                                                             count_statements):
    def statements(path: str) -> int:
        with count_statements() as counter:
            response = client.get(f"/api/v1{path}",
                                  headers={"Authorization": f"Bearer {world['a']}"})
        assert response.status_code == 200
        return counter.count

    create_assignment(world["manager_a"], world["course"].id, date(2030, 1, 1), "none", None,
                      [world["north"].id], [world["officers_a"][0].email])
    statements("/officers")  # records last_used_at, which later requests need not write
    before = {path: statements(path) for path in ("/officers", "/assignments")}
    # the token, one per table, then the audit row (chain lock, last hash, insert)
    assert before == {"/officers": 2 + 3, "/assignments": 3 + 3}
    for n in range(6):
        make_user("officer", agency=world["agency_a"], unit=world["north"], email=f"x{n}@a.test")
        create_assignment(world["manager_a"], world["course"].id, date(2030, 1, 1), "none",
                          None, [world["north"].id], [f"x{n}@a.test"])
    assert {path: statements(path) for path in before} == before


# Errors are JSON, never HTML ------------------------------------------------------------

def test_unknown_paths_and_other_methods_answer_json(app, client, world):
    app.config["WTF_CSRF_ENABLED"] = True  # the API is exempt: no HTML CSRF error
    headers = {"Authorization": f"Bearer {world['a']}"}
    for path in ("/api/v1/nope", "/api/v1/", "/api/v1/officers/abc", "/api/v1/officers/1/x"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert "openapi.json" in error_body(response)["message"]
    for method in ("post", "put", "delete", "patch"):
        response = getattr(client, method)("/api/v1/officers", headers=headers)
        assert response.status_code == 405
        assert error_body(response)["error"] == "method_not_allowed"
        assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    response = client.post("/api/v1/nope", headers=headers)
    assert response.status_code == 404 and error_body(response)["error"] == "not_found"


# Token pages ----------------------------------------------------------------------------

def test_manager_creates_sees_once_and_revokes_a_token(client, world, login_as):
    login_as(world["manager_a"])
    response = client.post("/agency/tokens/", data={"name": "Payroll"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Payroll"))
    raw = next(word for word in html.replace("<", " ").replace(">", " ").split()
               if word.startswith("wm_") and len(word) > 40)
    assert token.token_hash == service.hash_token(raw)
    again = client.get("/agency/tokens/").get_data(as_text=True)
    assert raw not in again and token.prefix in again and "HR A" in again
    assert "HR B" not in again
    assert api_get(client, "/officers", raw)[0].status_code == 200

    response = client.post(f"/agency/tokens/{token.id}/revoke")
    assert response.status_code == 302
    db.session.expire_all()
    assert token.revoked_at is not None
    assert api_get(client, "/officers", raw)[0].status_code == 401
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.actor_id == world["manager_a"].id, AuditEntry.action.not_like("auth.%"))
        .order_by(AuditEntry.id)).all()
    assert actions == ["api_token.create", "api_token.create", "api_token.revoke"]


def test_the_tokens_page_asks_how_long_and_shows_until_when(client, world, login_as):
    login_as(world["manager_a"])
    form = client.get("/agency/tokens/").get_data(as_text=True)
    assert '<option selected value="365">1 year</option>' in form
    response = client.post("/agency/tokens/", data={"name": "Quarterly", "valid_for": "90"})
    assert response.status_code == 200
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Quarterly"))
    assert timedelta(days=89) < token.expires_at - utcnow() <= timedelta(days=90)
    day = token.expires_at.date()
    assert f"It works until {day.day} {day:%b %Y}." in response.get_data(as_text=True)
    refused = client.post("/agency/tokens/", data={"name": "Forever", "valid_for": "36500"})
    assert refused.status_code == 200 and "raw-token" not in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Forever")) is None
    hr_a = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "HR A"))
    hr_a.expires_at = utcnow() + timedelta(days=10)
    token.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    rows = {row.split("</td>")[0].split(">")[-1]: row for row in client.get(
        "/agency/tokens/").get_data(as_text=True).split("<tr><td>")[1:]}
    assert "soon: create its replacement" in rows["HR A"] and "Revoke" in rows["HR A"]
    assert "expired" in rows["Quarterly"] and "Revoke" not in rows["Quarterly"]
    assert "soon" not in rows["Quarterly"]


def test_blank_name_is_refused(client, world, login_as):
    login_as(world["manager_a"])
    response = client.post("/agency/tokens/", data={"name": "   "})
    assert response.status_code == 200 and "raw-token" not in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 2


def test_only_agency_wide_managers_manage_tokens(client, world, make_user, login_as):
    token_a = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "HR A"))
    unit_manager = make_user("manager", agency=world["agency_a"], unit=world["north"])
    for user, status in ((world["officers_a"][0], 403), (unit_manager, 403),
                         (make_user("trainer"), 403)):
        login_as(user)
        assert client.get("/agency/tokens/").status_code == status, user
        assert client.post(f"/agency/tokens/{token_a.id}/revoke").status_code == status
        client.post("/logout")
    login_as(world["manager_b"])
    assert client.post(f"/agency/tokens/{token_a.id}/revoke").status_code == 404
    db.session.expire_all()
    assert token_a.revoked_at is None
    client.post("/logout")
    assert client.get("/agency/tokens/").status_code == 302  # to the sign-in page
