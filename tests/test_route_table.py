"""Every route x every identity: the expected status, derived from ``app.url_map``.

A route added without an entry in EXPECTED (GET) or UNSAFE (POST, PUT, PATCH, DELETE)
fails ``test_every_route_has_an_entry`` with its name. URLs point at officer A's own
objects (attempt, certificate, account), so officer B, another agency's manager and
staff of the wrong role must all be refused them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import url_for

from learning.accounts.models import User
from learning.accounts.service import get_or_create_agency
from learning.agency.service import create_assignment
from learning.api import service as api_service
from learning.assessments.models import Attempt
from learning.catalogue.models import Course
from learning.certificates.models import Certificate
from learning.extensions import db
from learning.jobs.service import enqueue
from learning.timeutil import utcnow
from tests.conftest import FIXTURE_CONTENT
from tests.test_certificates import pass_final, read_all_lessons

IDENTITIES = ("anonymous", "officer_a", "officer_b", "trainer", "manager_a", "manager_b",
              "admin")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ATTEMPT = {"course_slug": "field-basics", "slug": "final"}
DIAGRAM = FIXTURE_CONTENT / "courses/field-basics/images/diagram.png"

# endpoint: (url values, statuses for GET in IDENTITIES order). Values in braces are
# filled from the world: {attempt}, {code}, {officer_a}, {agency_a}, {course}, {token_a}.
ANON, STAFF_ONLY = 302, 403
NO_DRAFT = {"draft_id": 999999}
DRAFT_POSTS = ("save", "check", "add_file", "upload", "submit", "approve", "request_changes",
               "comment", "withdraw")
EXPECTED: dict[str, tuple[dict, tuple[int, ...]]] = {
    "accounts.login": ({}, (200, 302, 302, 302, 302, 302, 302)),
    "accounts.logout": ({}, (302, 200, 200, 200, 200, 200, 200)),  # GET asks to confirm
    "accounts.change_password": ({}, (302, 200, 200, 200, 200, 200, 200)),
    "accounts.forgot_password": ({}, (200, 200, 200, 200, 200, 200, 200)),  # public
    "accounts.account": ({}, (302, 200, 200, 200, 200, 200, 200)),  # always one's own
    "accounts.login_mfa": ({}, (302, 302, 302, 302, 302, 302, 302)),  # nothing pending
    "accounts.reset_password": ({"token": "not-a-real-token"}, (404,) * 7),
    "mfa.confirm": ({}, (302, 302, 302, 302, 302, 302, 302)),  # no second factor to give
    "mfa.enrol": ({}, (302, 200, 200, 200, 200, 200, 200)),
    "mfa.qr": ({}, (302, 200, 200, 200, 200, 200, 200)),  # the secret enrol just made
    "privacy.index": ({}, (302, 200, 200, 200, 200, 200, 200)),  # always one's own
    "core.home": ({}, (200, 302, 302, 302, 302, 302, 302)),  # public landing page
    "training.index": ({}, (302, 200, 200, 200, 200, 200, 200)),  # always one's own
    "core.healthz": ({}, (200, 200, 200, 200, 200, 200, 200)),
    # Public; 503 here because the test database is made without migrations (no revision).
    "core.readyz": ({}, (503,) * 7),
    "catalogue.index": ({}, (302, 200, 200, 200, 200, 200, 200)),
    "catalogue.course": ({"course_slug": "field-basics"}, (302, 200, 200, 200, 200, 200, 200)),
    "catalogue.lesson": ({"course_slug": "field-basics", "lesson_slug": "first-steps"},
                         (302, 200, 200, 200, 200, 200, 200)),
    "catalogue.media": ({"sha256": "{diagram}", "extension": "png"},
                        (302, 200, 200, 200, 200, 200, 200)),
    "assessments.start_page": (ATTEMPT, (302, 200, 200, 200, 200, 200, 200)),
    # Officer A's submitted attempt: its page sends the owner on to the result.
    "assessments.attempt": ({**ATTEMPT, "attempt_id": "{attempt}"},
                            (302, 302, 404, 404, 404, 404, 404)),
    "assessments.result": ({**ATTEMPT, "attempt_id": "{attempt}"},
                           (302, 200, 404, 404, 404, 404, 404)),
    # Officer A's submitted attempt: its review page sends the owner on to the result.
    "assessments.review": ({**ATTEMPT, "attempt_id": "{attempt}"},
                           (302, 302, 404, 404, 404, 404, 404)),
    "transcript.index": ({}, (302, 200, 200, 200, 200, 200, 200)),  # always one's own
    "certificates.index": ({}, (302, 200, 200, 200, 200, 200, 200)),  # always one's own
    "certificates.pdf": ({"code": "{code}"}, (302, 200, 404, 404, 404, 404, 200)),
    "certificates.verify": ({"code": "{code}"}, (200, 200, 200, 200, 200, 200, 200)),
    "certificates.verify_form": ({}, (200, 200, 200, 200, 200, 200, 200)),  # public
    "author.index": ({}, (302, 403, 403, 200, 403, 403, 200)),
    "author.preview": ({"course_slug": "field-basics", "lesson_slug": "first-steps"},
                       (302, 403, 403, 200, 403, 403, 200)),
    "author.item_statistics": ({"course_slug": "field-basics"},
                               (302, 403, 403, 200, 403, 403, 200)),
    "versions.history": ({"course_slug": "field-basics"}, (302, 403, 403, 200, 403, 403, 200)),
    "versions.diff": ({"course_slug": "field-basics", "from": 1, "to": 1},
                      (302, 403, 403, 200, 403, 403, 200)),
    "versions.download": ({"course_slug": "field-basics", "number": 1},
                          (302, 403, 403, 200, 403, 403, 200)),
    # Version 1 is the current one: the page says there is nothing to roll back. The
    # world's trainer is not an owner or editor of the course: only the admin may.
    "versions.rollback": ({"course_slug": "field-basics", "number": 1},
                          (302, 403, 403, 403, 403, 403, 200)),
    "versions.import_zip": ({}, (302, 403, 403, 200, 403, 403, 200)),
    "versions.confirm_import": ({}, (405,) * 7),
    "author.drafts_index": ({}, (302, 403, 403, 200, 403, 403, 200)),
    "author.members": ({"course_slug": "field-basics"}, (302, 403, 403, 200, 403, 403, 200)),
    # No draft exists in this world: trainers and admins get a 404, everyone else is refused.
    "author.editor": (NO_DRAFT, (302, 403, 403, 404, 403, 403, 404)),
    "author.questions": (NO_DRAFT, (302, 403, 403, 404, 403, 403, 404)),
    "author.changes": (NO_DRAFT, (302, 403, 403, 404, 403, 403, 404)),
    # A draft's image: a 404 for everyone who may not edit or review that draft.
    "author.draft_media": ({**NO_DRAFT, "sha256": "{diagram}", "extension": "png"},
                           (302, 404, 404, 404, 404, 404, 404)),
    "author.publish": (NO_DRAFT, (302, 403, 403, 404, 403, 403, 404)),
    "author.open_course_draft": ({"course_slug": "field-basics"}, (405,) * 7),
    "author.new_course": ({}, (405,) * 7),
    "author.revoke_member": ({"course_slug": "field-basics", "member_id": 999999}, (405,) * 7),
    **{f"author.{name}": (NO_DRAFT, (405,) * 7) for name in DRAFT_POSTS},
    "agency.index": ({}, (302, 403, 403, 403, 200, 200, 200)),
    "agency.settings": ({}, (302, 403, 403, 403, 200, 200, 403)),  # an agency's own
    "agency.settings_language": ({}, (405,) * 7),
    "agency.export_csv": ({}, (302, 403, 403, 403, 200, 200, 200)),
    "agency.dashboard_page": ({}, (302, 403, 403, 403, 200, 200, 200)),
    "agency_exports.export_xlsx": ({}, (302, 403, 403, 403, 200, 200, 200)),
    "agency.assignments": ({}, (302, 403, 403, 403, 200, 200, 403)),  # an agency's own
    "agency.edit_assignment": ({"assignment_id": "{assignment}"},
                               (302, 403, 403, 403, 200, 404, 403)),
    "agency.officer": ({"user_id": "{officer_a}"}, (302, 403, 403, 403, 200, 404, 200)),
    "api_tokens.index": ({}, (302, 403, 403, 403, 200, 200, 403)),
    "staff.index": ({}, (302, 403, 403, 403, 200, 200, 403)),
    "staff.import_staff": ({}, (302, 403, 403, 403, 200, 200, 403)),
    "staff.import_template": ({}, (302, 403, 403, 403, 200, 200, 403)),
    "staff.invite": ({"token": "not-a-real-invitation"}, (404, 404, 404, 404, 404, 404, 404)),
    "admin.index": ({}, (302, 403, 403, 403, 403, 403, 200)),
    "admin.users": ({}, (302, 403, 403, 403, 403, 403, 200)),
    "admin.user": ({"user_id": "{officer_a}"}, (302, 403, 403, 403, 403, 403, 200)),
    "admin.new_user": ({}, (302, 403, 403, 403, 403, 403, 200)),
    "admin.agencies": ({}, (302, 403, 403, 403, 403, 403, 200)),
    "admin.agency": ({"agency_id": "{agency_a}"}, (302, 403, 403, 403, 403, 403, 200)),
    "admin.agency_time_zone": ({"agency_id": "{agency_a}"}, (405,) * 7),
    "admin.agency_jurisdiction": ({"agency_id": "{agency_a}"}, (405,) * 7),
    "admin.certificate": ({"code": "{code}"}, (302, 403, 403, 403, 403, 403, 200)),
    "admin.audit": ({}, (302, 403, 403, 403, 403, 403, 200)),
    "admin.settings": ({}, (302, 403, 403, 403, 403, 403, 200)),
    # The API takes bearer tokens only: a browser session is not enough (see API_EXPECTED).
    "api.openapi": ({}, (200, 200, 200, 200, 200, 200, 200)),
    "api.unknown": ({"path": "no-such-thing"}, (404, 404, 404, 404, 404, 404, 404)),
    "api.officers": ({}, (401, 401, 401, 401, 401, 401, 401)),
    "api.officer": ({"officer_id": "{officer_a}"}, (401, 401, 401, 401, 401, 401, 401)),
    "api.assignments": ({}, (401, 401, 401, 401, 401, 401, 401)),
    "api.completions": ({}, (401, 401, 401, 401, 401, 401, 401)),
    "api.certificates": ({}, (401, 401, 401, 401, 401, 401, 401)),
    "api.certificate": ({"certificate_id": "{certificate}"},
                        (401, 401, 401, 401, 401, 401, 401)),
    # POST-only routes answer GET with 405 before any access rule runs (see UNSAFE).
    # Same URL as the page that GET shows (catalogue.lesson, assessments.start_page).
    "catalogue.complete_lesson": ({"course_slug": "field-basics", "lesson_slug": "wrap-up"},
                                  (302, 200, 200, 200, 200, 200, 200)),
    "assessments.start": (ATTEMPT, (302, 200, 200, 200, 200, 200, 200)),
    "assessments.save": ({**ATTEMPT, "attempt_id": "{attempt}"}, (405,) * 7),
    "assessments.submit": ({**ATTEMPT, "attempt_id": "{attempt}"}, (405,) * 7),
    # Same URL as assessments.review.
    "assessments.review_save": ({**ATTEMPT, "attempt_id": "{attempt}"},
                                (302, 302, 404, 404, 404, 404, 404)),
    "agency.grant_attempts": ({"user_id": "{officer_a}", "course_id": "{course}"}, (405,) * 7),
    "agency.remove_assignment": ({"assignment_id": "{assignment}"}, (405,) * 7),
    "api_tokens.revoke": ({"token_id": "{token_a}"}, (405,) * 7),
    "staff.confirm_import": ({}, (405,) * 7),
    "staff.invite_officer": ({"user_id": "{officer_a}"}, (405,) * 7),
    "staff.invite_selected": ({}, (405,) * 7),
    "languages.choose": ({}, (405,) * 7),
    "staff.deactivate": ({"user_id": "{officer_a}"}, (405,) * 7),
    "staff.reactivate": ({"user_id": "{officer_a}"}, (405,) * 7),
    "admin.reset_user_mfa": ({"user_id": "{officer_a}"}, (405,) * 7),
    "admin.send_password_reset": ({"user_id": "{officer_a}"}, (405,) * 7),
    "admin.set_user_active": ({"user_id": "{officer_a}"}, (405,) * 7),
    # Background jobs: one's own list; manager A's export job is theirs (and admins') alone.
    "jobs.index": ({}, (302, 200, 200, 200, 200, 200, 200)),
    "jobs.show": ({"job_id": "{job}"}, (302, 404, 404, 404, 200, 404, 200)),
    "jobs.result": ({"job_id": "{job}"}, (302, 404, 404, 404, 200, 404, 200)),
    "jobs.retry_job": ({"job_id": "{job}"}, (405,) * 7),
    "jobs.start_certificates": ({}, (405,) * 7),
    "jobs.start_export": ({}, (405,) * 7),
    "jobs.start_reminders": ({}, (405,) * 7),
    "jobs.start_officer_reminders": ({}, (405,) * 7),
}

# The same URLs with objects that do not exist: 404 for whoever may look at all.
MISSING = {
    "/courses/field-basics/no-such-lesson/": (302, 404, 404, 404, 404, 404, 404),
    "/courses/no-such-course/": (302, 404, 404, 404, 404, 404, 404),
    "/courses/field-basics/assessments/no-such-quiz/": (302, 404, 404, 404, 404, 404, 404),
    "/author/preview/field-basics/nope/": (302, 403, 403, 404, 403, 403, 404),
    "/author/courses/no-such-course/items/": (302, 403, 403, 404, 403, 403, 404),
    "/author/courses/no-such-course/versions/": (302, 403, 403, 404, 403, 403, 404),
    "/author/courses/field-basics/versions/99.zip": (302, 403, 403, 404, 403, 403, 404),
    "/author/courses/field-basics/versions/diff?from=1&to=99": (302, 403, 403, 404, 403, 403,
                                                               404),
    "/author/courses/field-basics/versions/diff?from=x&to=1": (302, 403, 403, 400, 403, 403,
                                                              400),
    "/author/courses/field-basics/versions/99/rollback": (302, 403, 403, 403, 403, 403, 404),
    "/certificates/" + "0" * 32 + ".pdf": (302, 404, 404, 404, 404, 404, 404),
    "/verify/" + "0" * 32: (404, 404, 404, 404, 404, 404, 404),
    "/admin/certificates/" + "0" * 32: (302, 403, 403, 403, 403, 403, 404),
    "/admin/users/999999/": (302, 403, 403, 403, 403, 403, 404),
    "/agency/officers/999999/": (302, 403, 403, 403, 404, 404, 404),
}

# Unsafe methods: who must be refused, with what status. Only refusals are sent, so
# nothing may change; every table but the audit log is compared afterwards.
@dataclass(frozen=True)
class Refused:
    """An unsafe route's URL values, the refused identities' statuses, and the form sent."""

    values: dict
    statuses: dict[str, int]
    data: dict = field(default_factory=dict)


ADMIN_ONLY = {"anonymous": 302, "officer_a": 403, "trainer": 403, "manager_a": 403}
AGENCY_MANAGERS = {"anonymous": 302, "officer_a": 403, "trainer": 403, "admin": 403}
SIGNED_IN = {"anonymous": 302}
STAFF_REFUSED = {"anonymous": 302, "officer_a": 403, "officer_b": 403, "manager_a": 403,
                 "manager_b": 403}
OTHERS_ATTEMPT = {"anonymous": 302, "officer_b": 404, "trainer": 404, "manager_a": 404,
                  "admin": 404}
A_OFFICER = {"user_id": "{officer_a}"}
UNSAFE: dict[str, Refused] = {
    # Public forms: the refusals are a wrong password and an unknown invitation.
    "accounts.login": Refused({}, {"anonymous": 401},
                              {"email": "nobody@example.test", "password": "wrong-password"}),
    "accounts.logout": Refused({}, {"anonymous": 302}),  # nothing to end: to the sign-in page
    "accounts.change_password": Refused({}, {"anonymous": 302, "officer_a": 400},
                                        {"current": "wrong-password", "password": "x" * 12,
                                         "confirm": "x" * 12}),
    "accounts.forgot_password": Refused({}, {"anonymous": 400}),  # no email given
    "accounts.login_mfa": Refused({}, {"anonymous": 302, "officer_a": 302}, {"code": "123456"}),
    "accounts.reset_password": Refused({"token": "not-a-real-token"},
                                       {"anonymous": 404, "officer_a": 404},
                                       {"password": "x" * 12, "confirm": "x" * 12}),
    "mfa.confirm": Refused({}, {"anonymous": 302}, {"code": "123456"}),
    "mfa.enrol": Refused({}, {"anonymous": 302}, {"code": "123456"}),
    "privacy.index": Refused({}, {"anonymous": 302}),
    # Public: anyone may switch languages; the refusal is a language not offered.
    "languages.choose": Refused({}, {"anonymous": 400, "officer_a": 400, "admin": 400},
                                {"language": "xx"}),
    "admin.reset_user_mfa": Refused(A_OFFICER, ADMIN_ONLY),
    # Trainers and admins only; the version named is the current one.
    "versions.rollback": Refused({"course_slug": "field-basics", "number": 1},
                                 {**STAFF_REFUSED, "trainer": 403, "admin": 409}),
    "versions.import_zip": Refused({}, STAFF_REFUSED),
    "versions.confirm_import": Refused({}, {**STAFF_REFUSED, "trainer": 409, "admin": 409},
                                       {"pending_id": "1", "sha256": "0" * 64}),
    "admin.send_password_reset": Refused(A_OFFICER, ADMIN_ONLY),
    "admin.set_user_active": Refused(A_OFFICER, ADMIN_ONLY, {"deactivate": "1"}),
    "staff.invite": Refused({"token": "not-a-real-invitation"},
                            {"anonymous": 404, "officer_a": 404}, {"password": "x" * 20}),
    "catalogue.complete_lesson": Refused(
        {"course_slug": "field-basics", "lesson_slug": "wrap-up"}, SIGNED_IN),
    "assessments.start": Refused(ATTEMPT, SIGNED_IN),
    "assessments.save": Refused({**ATTEMPT, "attempt_id": "{attempt}"}, OTHERS_ATTEMPT,
                                {"sequence": "99"}),
    "assessments.submit": Refused({**ATTEMPT, "attempt_id": "{attempt}"}, OTHERS_ATTEMPT,
                                  {"sequence": "99"}),
    "assessments.review_save": Refused({**ATTEMPT, "attempt_id": "{attempt}"}, OTHERS_ATTEMPT,
                                       {"sequence": "99"}),
    "agency.assignments": Refused({}, AGENCY_MANAGERS),
    "agency.edit_assignment": Refused({"assignment_id": "{assignment}"},
                                      {**AGENCY_MANAGERS, "manager_b": 404},
                                      {"due_on": "2001-01-01", "confirm_past": "y"}),
    "agency.remove_assignment": Refused({"assignment_id": "{assignment}"},
                                        {**AGENCY_MANAGERS, "manager_b": 404}),
    "agency.grant_attempts": Refused(
        {"user_id": "{officer_a}", "course_id": "{course}"},
        {"anonymous": 302, "officer_a": 403, "trainer": 403, "manager_b": 404}),
    "api_tokens.index": Refused({}, AGENCY_MANAGERS, {"name": "Stolen"}),
    "api_tokens.revoke": Refused({"token_id": "{token_a}"},
                                 {**AGENCY_MANAGERS, "manager_b": 404}),
    "staff.import_staff": Refused({}, AGENCY_MANAGERS),
    "staff.confirm_import": Refused({}, AGENCY_MANAGERS),
    "staff.invite_officer": Refused(A_OFFICER, {**AGENCY_MANAGERS, "manager_b": 404}),
    "staff.invite_selected": Refused({}, AGENCY_MANAGERS, {"officer_id": "{officer_a}"}),
    "staff.deactivate": Refused(A_OFFICER, {**AGENCY_MANAGERS, "manager_b": 404}),
    "staff.reactivate": Refused(A_OFFICER, {**AGENCY_MANAGERS, "manager_b": 404}),
    "admin.agencies": Refused({}, ADMIN_ONLY, {"name": "Rogue", "slug": "rogue"}),
    "admin.agency": Refused({"agency_id": "{agency_a}"}, ADMIN_ONLY),
    "admin.agency_time_zone": Refused({"agency_id": "{agency_a}"}, {**ADMIN_ONLY, "admin": 400},
                                      {"time_zone": "Mars/Olympus_Mons"}),
    "accounts.account": Refused({}, {"anonymous": 302, "officer_a": 400},
                                {"time_zone": "Mars/Olympus_Mons"}),
    "agency.settings_language": Refused({}, {**AGENCY_MANAGERS, "manager_a": 400,
                                             "manager_b": 400}, {"language": "xx"}),
    "agency.settings": Refused({}, {**AGENCY_MANAGERS, "manager_a": 400},
                               {"time_zone": "Mars/Olympus_Mons"}),
    "admin.agency_jurisdiction": Refused({"agency_id": "{agency_a}"}, ADMIN_ONLY,
                                         {"jurisdiction": "uk"}),
    "admin.user": Refused(A_OFFICER, ADMIN_ONLY, {"role": "admin"}),
    "admin.settings": Refused({}, ADMIN_ONLY, {"issuer_name": "Rogue"}),
    "admin.new_user": Refused({}, ADMIN_ONLY, {"email": "rogue@example.test",
                                               "display_name": "Rogue", "role": "admin"}),
    "admin.certificate": Refused({"code": "{code}"}, ADMIN_ONLY, {"reason": "Forged"}),
    # Refused jobs: not theirs (404), wrong role (403), or no idempotency token (400).
    "jobs.retry_job": Refused({"job_id": "{job}"}, {"anonymous": 302, "officer_a": 404,
                                                    "manager_b": 404, "manager_a": 400}),
    "jobs.start_certificates": Refused({}, {"anonymous": 302, "officer_a": 403,
                                            "trainer": 403, "manager_a": 400}),
    "jobs.start_export": Refused({}, {"anonymous": 302, "officer_a": 403, "trainer": 403,
                                      "manager_b": 400}, {"format": "csv"}),
    "jobs.start_reminders": Refused({}, {**ADMIN_ONLY, "admin": 400}),
    "jobs.start_officer_reminders": Refused({}, {"anonymous": 302, "officer_a": 403,
                                                 "trainer": 403, "manager_a": 400}),
    "author.open_course_draft": Refused({"course_slug": "field-basics"},
                                        {"anonymous": 302, "officer_a": 403, "trainer": 403,
                                         "manager_a": 403}),
    "author.new_course": Refused({}, {"anonymous": 302, "officer_a": 403, "manager_a": 403,
                                      "trainer": 400, "admin": 400}),
    "author.members": Refused({"course_slug": "field-basics"},
                              {"anonymous": 302, "officer_a": 403, "trainer": 403,
                               "manager_a": 403, "admin": 400}, {"email": "nobody@x.test"}),
    "author.revoke_member": Refused({"course_slug": "field-basics", "member_id": 999999},
                                    {"anonymous": 302, "officer_a": 403, "trainer": 403,
                                     "manager_a": 403, "admin": 404}),
    **{f"author.{name}": Refused(NO_DRAFT, {"anonymous": 302, "officer_a": 403, "trainer": 404,
                                            "manager_a": 403, "admin": 404})
       for name in (*DRAFT_POSTS, "publish")},
    # The API is read-only: a known path answers 405 to any other method, token or not.
    "api.unknown": Refused({"path": "officers"}, {"anonymous": 405, "manager_a": 405}),
}

# The API by bearer token: none, agency A's, agency B's (officer A is in agency A).
API_EXPECTED = {
    "api.openapi": (200, 200, 200),
    "api.unknown": (404, 404, 404),
    "api.officers": (401, 200, 200),
    "api.officer": (401, 200, 404),
    "api.assignments": (401, 200, 200),
    "api.completions": (401, 200, 200),
    "api.certificates": (401, 200, 200),
    "api.certificate": (401, 200, 404),
}


@dataclass
class World:
    """Who is who, and officer A's objects the URLs point at."""

    users: dict[str, User | None]
    values: dict[str, str]
    tokens: dict[str, str]


@pytest.fixture
def app_config(app_config):
    """Second factors are another feature's concern: keep them out of this table."""
    return {**app_config, "REQUIRE_MFA": False}


@pytest.fixture
def world(app, client, synced, agency, make_user, login_as) -> World:
    """Two agencies, every role, and officer A's attempt, certificate and assignment."""
    agency_b = get_or_create_agency("Agency B", "agency-b")
    db.session.commit()
    users: dict[str, User | None] = {
        "anonymous": None,
        "officer_a": make_user("officer", agency=agency, name="Officer A"),
        "officer_b": make_user("officer", agency=agency, name="Officer B"),
        "trainer": make_user("trainer"),
        "manager_a": make_user("manager", agency=agency),
        "manager_b": make_user("manager", agency=agency_b),
        "admin": make_user("admin"),
    }
    login_as(users["officer_a"])
    read_all_lessons(client)
    pass_final(client)
    client.post("/logout")
    officer_a = users["officer_a"]
    attempt = db.session.scalar(sa.select(Attempt).where(Attempt.user_id == officer_a.id))
    certificate = db.session.scalar(sa.select(Certificate).where(
        Certificate.user_id == officer_a.id))
    course = db.session.scalar(sa.select(Course))
    assignment = create_assignment(users["manager_a"], course.id,
                                   utcnow().date() + timedelta(days=30), "none", None, [],
                                   [officer_a.email])
    token_a, raw_a = api_service.create_token(users["manager_a"], "HR A")
    _token_b, raw_b = api_service.create_token(users["manager_b"], "HR B")
    job, _created = enqueue("export", {"format": "csv", "filters": {}}, users["manager_a"],
                            "route-table")
    values = {"attempt": str(attempt.id), "code": certificate.code, "job": str(job.id),
              "certificate": str(certificate.id), "officer_a": str(officer_a.id),
              "agency_a": str(agency.id), "course": str(course.id),
              "token_a": str(token_a.id), "assignment": str(assignment.id),
              "diagram": hashlib.sha256(DIAGRAM.read_bytes()).hexdigest()}
    return World(users, values, {"none": "", "a": raw_a, "b": raw_b})


def routes(app) -> dict[str, set[str]]:
    """Every endpoint but 'static', with the methods its rules accept."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            found.setdefault(rule.endpoint, set()).update(rule.methods or ())
    return found


def url(app, world: World, endpoint: str, values: dict) -> str:
    """The endpoint's URL with officer A's objects filled in."""
    filled = {key: world.values[value[1:-1]] if str(value).startswith("{") else value
              for key, value in values.items()}
    with app.test_request_context():
        return url_for(endpoint, **filled)


def test_every_route_has_an_entry(app):
    endpoints = routes(app)
    missing = sorted(set(endpoints) - set(EXPECTED))
    assert not missing, f"routes without an entry in EXPECTED: {', '.join(missing)}"
    assert not set(EXPECTED) - set(endpoints), "EXPECTED names routes that no longer exist"
    unsafe = {name for name, methods in endpoints.items() if methods & UNSAFE_METHODS}
    assert set(UNSAFE) <= unsafe, "UNSAFE names routes that take no unsafe method"
    missing = sorted(unsafe - set(UNSAFE))
    assert not missing, f"routes taking POST/PUT/PATCH/DELETE without an entry in UNSAFE: " \
                        f"{', '.join(missing)}"
    api = {name for name in endpoints if name.startswith("api.")}
    assert set(API_EXPECTED) == api, f"API routes without a token entry: {api ^ set(API_EXPECTED)}"


def _snapshot() -> dict[str, list]:
    """Every row of every table but the audit log and the sign-in throttle (refusals are
    audited, and failed sign-ins counted)."""
    db.session.expire_all()
    return {table.name: sorted(map(repr, db.session.execute(sa.select(table)).all()))
            for table in db.metadata.sorted_tables
            if table.name not in ("audit_entry", "login_throttle")}


@pytest.mark.parametrize("identity", IDENTITIES)
def test_route_table(app, client, world, login_as, identity):
    user = world.users[identity]
    if user is not None:
        login_as(user)
    wrong = []
    urls = {url(app, world, endpoint, values): expected
            for endpoint, (values, expected) in EXPECTED.items()} | MISSING
    for path, expected in urls.items():
        response = client.get(path)
        status = expected[IDENTITIES.index(identity)]
        if response.status_code != status:
            wrong.append(f"GET {path}: {response.status_code}, expected {status}")
        elif status == 302 and identity == "anonymous" and path not in ("/", "/logout",
                                                                          "/login/mfa"):
            if not response.headers["Location"].startswith("/login?next="):
                wrong.append(f"GET {path}: redirected to {response.headers['Location']}")

    before = _snapshot()
    methods = routes(app)
    for endpoint, refused in UNSAFE.items():
        if identity not in refused.statuses:
            continue
        path, status = url(app, world, endpoint, refused.values), refused.statuses[identity]
        for method in sorted(methods[endpoint] & UNSAFE_METHODS):
            response = client.open(path, method=method, data=refused.data)
            if response.status_code != status:
                wrong.append(f"{method} {path}: {response.status_code}, expected {status}")
    assert _snapshot() == before, "a refused request changed the database"
    assert not wrong, f"{identity}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("token", ["none", "a", "b"])
def test_api_route_table(app, client, world, token):
    wrong = []
    for endpoint, expected in API_EXPECTED.items():
        path = url(app, world, endpoint, EXPECTED[endpoint][0])
        raw = world.tokens[token]
        response = client.get(path, headers={"Authorization": f"Bearer {raw}"} if raw else {})
        status = expected[("none", "a", "b").index(token)]
        if response.status_code != status:
            wrong.append(f"GET {path}: {response.status_code}, expected {status}")
        assert response.mimetype == "application/json"
    assert not wrong, f"token {token}:\n" + "\n".join(wrong)
