"""Hostile input never gives a 500: every route x method x identity x hostile value.

The route table comes from ``app.url_map`` and the field names from the code itself
(every ``FlaskForm`` and every ``args.get("...")``), so a new route or field cannot
be forgotten. NUL bytes matter most on PostgreSQL, which refuses them in text.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import g
from flask_wtf import FlaskForm
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

from learning.accounts.models import Agency, User
from learning.agency import staff
from learning.agency.forms import MAX_EMAIL_LIST
from learning.agency.models import Assignment
from learning.agency.service import create_assignment
from learning.api.service import create_token
from learning.assessments.models import Attempt
from learning.assessments.service import attempt_questions
from learning.catalogue.models import Course
from learning.certificates.models import Certificate
from learning.extensions import db
from learning.jobs.service import enqueue
from tests.test_assessments import start
from tests.test_certificates import pass_final, read_all_lessons

CHECK = "/courses/field-basics/assessments/check-basics/"
BAD_UTF8 = object()  # stands for a raw invalid UTF-8 percent-escape
# Longer than every column and form limit but the e-mail list's (tested on its own below).
# It goes in every field at once, so its length is most of the sweep's time.
LONG = "x" * 2_001
HOSTILE = ["a\x00b", "١٢٣", "²", "99999999999999999999999", "-1", LONG, BAD_UTF8]
ROLES = ("officer", "trainer", "manager", "admin")
SOURCE = Path(__file__).resolve().parent.parent / "learning"
ARG_NAME = re.compile(r'(?:args\.get|args\.getlist|form\.get|form\.getlist|number)\(\s*"(\w+)"')


def _encoded(value) -> str:
    return "%ff%fe%c3" if value is BAD_UTF8 else quote(value, safe="")


def _form_classes(cls=FlaskForm):
    for sub in cls.__subclasses__():
        yield sub
        yield from _form_classes(sub)


def _limits():
    """Every column length and every form ``Length(max=...)`` in the code."""
    for table in db.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.String) and column.type.length:
                yield column.type.length
    for form in _form_classes():
        for name in dir(form):
            field = getattr(form, name)
            if isinstance(field, UnboundField):
                for validator in field.kwargs.get("validators") or ():
                    if isinstance(validator, Length) and validator.max and validator.max > 0:
                        yield validator.max


def test_the_long_value_passes_every_limit_but_the_email_list():
    """The sweep's long value stays longer than any limit someone adds later."""
    limits = set(_limits())
    assert MAX_EMAIL_LIST in limits and 254 in limits  # the scan sees forms and columns
    assert len(LONG) > max(limits - {MAX_EMAIL_LIST})


def field_names(attempt: Attempt) -> set[str]:
    """Every form field and query argument some view reads, and the attempt's answers."""
    names = {m for path in SOURCE.rglob("*.py") for m in ARG_NAME.findall(path.read_text())}
    for form in _form_classes():
        names |= {n for n in dir(form) if isinstance(getattr(form, n), UnboundField)}
    for question in attempt_questions(attempt):
        for part in question.gradable():
            names.add(f"q-{part.id}")
            for key, *_rest in (part.spec.get("pairs") or part.spec.get("items") or ()):
                names.add(f"q-{part.id}-{key}")
    names.discard("csrf_token")
    return names


@pytest.fixture
def world(client, make_user, login_as, synced, agency):
    """One of each role, a certificate, an attempt, an invitation and an API token."""
    users = {role: make_user(role, agency=agency if role in ("officer", "manager") else None)
             for role in ROLES}
    login_as(users["officer"])
    read_all_lessons(client)
    pass_final(client)
    _attempt_id, _location = start(client, CHECK)  # left open: its answers are parsed
    attempt = db.session.get(Attempt, _attempt_id)
    client.post("/logout")
    target = make_user("officer", agency=agency)
    target.password_hash = None  # only officers who never had a password are invited
    _invitation, token = staff.create_invitation(users["manager"], target.id)
    api_token, raw_api_token = create_token(users["manager"], "HR")
    db.session.commit()
    certificate = db.session.scalar(sa.select(Certificate))
    course = db.session.scalar(sa.select(Course))
    assignment = create_assignment(users["manager"], course.id, date(2031, 1, 31), "none", None,
                                   [], [target.email])
    job, _created = enqueue("export", {"format": "csv", "filters": {}}, users["manager"],
                            "hostile-input")
    valid = {
        "course_slug": "field-basics", "lesson_slug": "first-steps", "slug": "check-basics",
        "attempt_id": attempt.id, "code": certificate.code, "agency_id": agency.id,
        "user_id": target.id, "officer_id": target.id, "course_id": course.id,
        "certificate_id": certificate.id, "token": token, "token_id": api_token.id,
        "assignment_id": assignment.id, "job_id": job.id, "number": 1, "draft_id": 999999,
        "member_id": 999999,
        "sha256": "0" * 64, "extension": "png", "filename": "style.css", "path": "x",
    }
    return {"users": users, "valid": valid, "names": field_names(attempt),
            "included": [p.id for q in attempt_questions(attempt) for p in q.gradable()],
            "api": raw_api_token}


def _path(rule, values: dict) -> str:
    """The rule's URL with each variable replaced by an (already encoded) value."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule.rule)


def _requests(app, world):
    """(method, path, body) for each rule, method and hostile value: hostile path
    variables with no fields, then valid path variables with hostile fields."""
    valid = {k: quote(str(v), safe="") for k, v in world["valid"].items()}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                yield method, _path(rule, valid), ""  # the page as a browser asks for it
            for value in HOSTILE:
                bad = _encoded(value)
                if rule.arguments:
                    yield method, _path(rule, dict.fromkeys(rule.arguments, bad)), ""
                fields = "&".join(f"{n}={bad}" for n in sorted(world["names"]))
                fields += "".join(f"&included={i}" for i in world["included"])
                path = _path(rule, valid)
                yield method, f"{path}?{fields}", fields if method != "GET" else ""


def _sign_in(client, user_id: int | None) -> None:
    """Put the user's current session id (it changes when sessions end) in the cookie."""
    db.session.rollback()  # a fresh read, not this test's old snapshot
    with client.session_transaction() as session:
        session.clear()
        if user_id is not None:
            session["_user_id"] = db.session.get(User, user_id).get_id()
            session["_fresh"] = True


def test_no_hostile_value_gives_a_server_error(app, world):
    """Anonymous, each role and an API token: no route answers 500 to hostile input."""
    # The API token first: the manager's walk revokes it (POST .../revoke with a valid id).
    identities = [("api", None), ("anonymous", None),
                  *((r, u.id) for r, u in world["users"].items())]
    failures, reached = [], set()
    for name, user_id in identities:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {world['api']}"} if name == "api" else {}
        _sign_in(client, user_id)
        for method, path, body in _requests(app, world):
            g.pop("_login_user", None)  # requests share the test's app context, and so g
            try:
                response = client.open(path, method=method, data=body, headers=headers,
                                       content_type="application/x-www-form-urlencoded")
            except Exception as exc:  # TESTING propagates what would be a 500
                db.session.rollback()
                failures.append(f"{name} {method} {path[:100]} -> {exc!r:.150}")
                continue
            # /readyz answers 503 by design here: the test database has no migration revision.
            not_ready = path.partition("?")[0] == "/readyz" and response.status_code == 503
            if response.status_code >= 500 and not not_ready:
                failures.append(f"{name} {method} {path[:100]} -> {response.status_code}")
            if response.status_code == 200:
                reached.add((name, path.partition("?")[0]))
            if "logout" in path or response.status_code in (302, 303) and "/login" in \
                    response.headers.get("Location", ""):
                _sign_in(client, user_id)
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} in all)"
    # The walk really ran as each identity (a lost session would hide every page).
    assert {("officer", "/progress/"), ("trainer", "/author/"), ("manager", "/agency/"),
            ("admin", "/admin/users/"), ("api", "/api/v1/officers")} <= reached


def test_nul_bytes_are_refused_and_change_nothing(client, make_user, login_as):
    """A NUL byte anywhere in path, query or form is a 400 before any view runs."""
    login_as(make_user("admin"))
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Agency))
    response = client.post("/admin/agencies/", data={"name": "Evil\x00Agency", "slug": "evil"})
    assert response.status_code == 400
    assert b"<html" in response.data.lower()
    assert client.get("/admin/users/?email=a%00b").status_code == 400
    assert client.get("/verify/ab%00cd").status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Agency)) == before


def test_ids_in_paths_are_ascii_and_64_bit(client, make_user, login_as):
    """An id written in Arabic-Indic digits is not that id, and one past 64 bits is a 404."""
    admin = make_user("admin")
    login_as(admin)
    arabic = str(admin.id).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert client.get(f"/admin/users/{admin.id}/").status_code == 200
    assert client.get(f"/admin/users/{quote(arabic)}/").status_code == 404
    assert client.get("/admin/users/99999999999999999999999/").status_code == 404
    assert client.get(f"/admin/users/{2**63}/").status_code == 404


def test_unicode_digits_in_query_args_are_not_numbers(client, make_user, login_as, agency,
                                                      synced):
    """"²" passes str.isdigit() but not int(): filters and API paging answer, never 500."""
    login_as(make_user("manager", agency=agency))
    for query in ("unit=%C2%B2", "course=%C2%B2", "unit=99999999999999999999999",
                  "page=99999999999999999999999", "unit=%D9%A1"):
        assert client.get(f"/agency/?{query}").status_code == 200, query
        assert client.get(f"/agency/export.csv?{query}").status_code == 200, query
    _token, raw = create_token(make_user("manager", agency=agency), "HR")
    db.session.commit()
    for query in ("per_page=%C2%B2", "cursor=%C2%B2", "cursor=99999999999999999999999"):
        response = client.get(f"/api/v1/officers?{query}",
                              headers={"Authorization": f"Bearer {raw}"})
        assert response.status_code == 400 and response.get_json()["error"], query


def test_oversized_body_is_413_with_a_page(client, app):
    """A body past MAX_CONTENT_LENGTH (above the 5 MB staff import) is a 413 page."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert 5 * 1024 * 1024 < limit <= 8 * 1024 * 1024
    response = client.post("/login", data=b"x" * (limit + 1),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert "base-uri 'none'" in response.headers["Content-Security-Policy"]


def test_oversized_text_field_is_a_form_error(client, make_user, login_as, agency, synced):
    """A free-text field past its limit is refused with a message; nothing is created."""
    login_as(make_user("manager", agency=agency))
    course = db.session.scalar(sa.select(Course))
    response = client.post("/agency/assignments/", data={
        "course_id": course.id, "due_on": "2030-01-31", "recurrence": "none",
        "officer_emails": "someone@example.test\n" * 6000})
    assert response.status_code == 200
    assert "longer than 100000 characters" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0
