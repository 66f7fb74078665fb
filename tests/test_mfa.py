"""The second factor: enrolment, sign-in with TOTP or recovery codes, step-up, resets."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import date, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa

from learning.accounts import mfa
from learning.accounts.auth_models import MfaCredential, RecoveryCode, RememberToken
from learning.accounts.models import User
from learning.accounts.sessions import GATE_EXEMPT, MFA_AT
from learning.agency.models import AuditEntry
from learning.api.models import ApiToken
from learning.catalogue.models import Course
from learning.certificates.models import Certificate, Completion
from learning.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("isolated_requests")

START = datetime(2030, 3, 4, 9, 0, 0)


@pytest.fixture
def clock(monkeypatch):
    """The time the second-factor checks see; move it with ``clock.now += ...``."""

    class Clock:
        now = START

        def code(self, secret: str, steps: int = 0) -> str:
            """The TOTP code of ``secret`` at the current time plus ``steps`` 30 s steps."""
            step = int((self.now - datetime(1970, 1, 1)).total_seconds()) // 30 + steps
            return pyotp.TOTP(secret).generate_otp(step)

    clock = Clock()
    monkeypatch.setattr(mfa, "utcnow", lambda: clock.now)
    return clock


@pytest.fixture
def mfa_app(app):
    app.config["REQUIRE_MFA"] = True
    return app


def password_step(client, user):
    return client.post("/login", data={"email": user.email, "password": PASSWORD})


def enrol(client, clock) -> tuple[str, list[str]]:
    """Set up the second factor through the pages; returns the secret and recovery codes."""
    html = client.get("/account/mfa/enrol").get_data(as_text=True)
    secret = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', html).group(1)
    secret = secret.replace(" ", "")
    response = client.post("/account/mfa/enrol", data={"code": clock.code(secret)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-7]{4}(?:-[a-z2-7]{4}){3})</code></li>",
                       response.get_data(as_text=True))
    assert len(codes) == 10
    clock.now += timedelta(seconds=30)
    return secret, codes


def enrolled(client, user, clock) -> tuple[str, list[str]]:
    """Sign a privileged user in for the first time and set up their factor."""
    response = password_step(client, user)
    assert response.status_code == 302
    return enrol(client, clock)


def sign_in_with_code(client, user, code):
    assert password_step(client, user).headers["Location"] == "/login/mfa"
    return client.post("/login/mfa", data={"code": code})


def example_url(rule) -> str:
    """A concrete URL for a route, with placeholder values for its variables."""
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>",
                  lambda m: "1" if m.group(1) == "int" else "x", rule.rule)


# The gate ------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "manager", "trainer"])
def test_privileged_account_without_mfa_is_sent_to_enrolment_from_every_page(
        mfa_app, client, make_user, role, synced):
    user = make_user(role)
    response = password_step(client, user)
    assert response.status_code == 302
    checked = 0
    for rule in mfa_app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in GATE_EXEMPT \
                or rule.endpoint.startswith("api."):
            continue
        response = client.get(example_url(rule))
        assert response.status_code == 302, rule.rule
        assert response.headers["Location"] == "/account/mfa/enrol", rule.rule
        checked += 1
    assert checked > 25
    # Changes are refused the same way, and change nothing.
    response = client.post(f"/admin/users/{user.id}/", data={"role": "officer"})
    assert response.headers["Location"] == "/account/mfa/enrol"
    assert db.session.get(User, user.id).role == role
    assert client.get("/account/mfa/enrol").status_code == 200


def test_gate_exemptions_are_only_the_way_out(mfa_app):
    """Nothing but signing out, the second-factor pages, static files and the health checks."""
    assert GATE_EXEMPT == {"static", "core.healthz", "core.readyz", "accounts.logout",
                           "accounts.login_mfa", "mfa.enrol", "mfa.qr", "mfa.confirm"}


def test_officer_is_not_asked(mfa_app, client, make_user, login_as, synced):
    login_as(make_user("officer"))
    assert client.get("/courses/").status_code == 200
    assert client.get("/progress/").status_code == 200


def test_demo_mode_does_not_require_mfa(app, client, make_user, login_as):
    assert app.config["REQUIRE_MFA"] is False  # conftest, like make run (debug mode)
    login_as(make_user("admin"))
    assert client.get("/admin/").status_code == 200


# Enrolment and sign-in -----------------------------------------------------------------

def test_enrolment_with_a_real_code_then_sign_in(mfa_app, client, make_user, clock):
    admin = make_user("admin")
    password_step(client, admin)
    html = client.get("/account/mfa/enrol").get_data(as_text=True)
    assert '<img src="/account/mfa/qr.svg"' in html
    secret = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', html).group(1)
    secret = secret.replace(" ", "")
    # The page keeps the same secret until it is confirmed; it is encrypted at rest.
    again = client.get("/account/mfa/enrol").get_data(as_text=True)
    assert secret in again.replace(" ", "")
    stored = db.session.scalar(sa.select(MfaCredential).where(MfaCredential.user_id == admin.id))
    assert secret not in stored.secret and mfa.totp_secret(stored) == secret
    qr = client.get("/account/mfa/qr.svg")
    assert qr.status_code == 200 and qr.headers["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.data and qr.headers["Cache-Control"] == "no-store"

    wrong = str((int(clock.code(secret)) + 1) % 1_000_000).zfill(6)
    response = client.post("/account/mfa/enrol", data={"code": wrong})
    assert response.status_code == 400 and "not correct" in response.get_data(as_text=True)
    assert client.get("/admin/").headers["Location"] == "/account/mfa/enrol"

    response = client.post("/account/mfa/enrol", data={"code": clock.code(secret)})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 200
    assert client.get("/account/mfa/qr.svg").status_code == 404  # the secret is not shown again
    enrol_code = clock.code(secret)
    client.post("/logout")

    # Signing in now takes the password, then a code; the password alone signs nobody in.
    assert sign_in_with_code(client, admin, wrong).status_code == 401
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/").headers["Location"].startswith("/login")
    response = sign_in_with_code(client, admin, enrol_code)  # already used: a replay
    assert response.status_code == 401
    clock.now += timedelta(seconds=30)
    response = client.post("/login/mfa", data={"code": clock.code(secret)})
    assert response.status_code == 302 and response.headers["Location"] == "/courses/"
    assert client.get("/admin/").status_code == 200

    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    summary = [(e.action, e.outcome, e.details.get("step")) for e in entries]
    assert summary == [("auth.login", "success", None), ("mfa.enrol", "success", None),
                       ("auth.logout", "success", None),
                       ("auth.login", "failure", "second factor"),
                       ("auth.login", "failure", "second factor"),
                       ("auth.login", "success", None)]
    assert entries[-1].details["second_factor"] == "totp" and entries[-1].actor_id == admin.id


def test_remember_me_from_before_enrolment_does_not_pass_for_the_factor(
        mfa_app, client, make_user, clock):
    trainer = make_user("trainer")
    response = client.post("/login", data={"email": trainer.email, "password": PASSWORD,
                                           "remember": "y"})
    assert response.status_code == 302 and client.get_cookie("remember") is not None
    secret, _codes = enrol(client, clock)
    assert db.session.scalar(sa.select(sa.func.count(RememberToken.id))) == 0
    client.delete_cookie("session")  # a new browser session
    assert client.get("/author/").headers["Location"].startswith("/login")
    # Signed in with both factors, remember-me brings the next browser session back.
    client.post("/login", data={"email": trainer.email, "password": PASSWORD,
                                "remember": "y"})
    assert client.post("/login/mfa", data={"code": clock.code(secret)}).status_code == 302
    client.delete_cookie("session")
    assert client.get("/author/").status_code == 200
    # ...but not for sensitive changes, which ask for the code again.
    with client.session_transaction() as session:
        assert MFA_AT not in session


def test_codes_are_single_use_and_older_codes_are_refused(app_ctx, make_user, clock):
    user = make_user("trainer")
    credential = mfa.start_enrolment(user)
    secret = mfa.totp_secret(credential)
    mfa.confirm_enrolment(user, clock.code(secret, steps=1))
    assert not mfa.check_totp(credential, clock.code(secret, steps=1))  # the same code
    assert not mfa.check_totp(credential, clock.code(secret))  # an older one
    assert not mfa.check_totp(credential, clock.code(secret, steps=2))  # too far ahead
    clock.now += timedelta(seconds=60)
    assert mfa.check_totp(credential, clock.code(secret))
    for bad in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert not mfa.check_totp(credential, bad)


def test_recovery_codes_are_hashed_and_single_use(mfa_app, client, make_user, clock):
    manager = make_user("manager")
    _secret, codes = enrolled(client, manager, clock)
    client.post("/logout")
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash).where(
        RecoveryCode.user_id == manager.id)).all()
    assert sorted(stored) == sorted(hashlib.sha256(c.replace("-", "").encode()).hexdigest()
                                    for c in codes)
    assert not any(c.replace("-", "") in h for c in codes for h in stored)

    assert sign_in_with_code(client, manager, codes[0]).status_code == 302
    assert client.get("/agency/").status_code == 200
    client.post("/logout")
    assert sign_in_with_code(client, manager, codes[0]).status_code == 401  # used
    # Typed in capitals and without hyphens, another code works.
    response = client.post("/login/mfa", data={"code": codes[1].replace("-", "").upper()})
    assert response.status_code == 302
    used = db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(
        RecoveryCode.used_at.is_not(None)))
    assert used == 2
    last = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "auth.login")
                              .order_by(AuditEntry.id.desc())).first()
    assert last.details["second_factor"] == "recovery code"


def test_wrong_codes_are_throttled(mfa_app, client, make_user, clock):
    trainer = make_user("trainer")
    secret, _codes = enrolled(client, trainer, clock)
    client.post("/logout")
    assert password_step(client, trainer).status_code == 302
    for _ in range(5):
        assert client.post("/login/mfa", data={"code": "000000"}).status_code == 401
    response = client.post("/login/mfa", data={"code": clock.code(secret)})
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert client.get("/author/").status_code == 302


def test_second_step_needs_a_recent_password_step(mfa_app, client, make_user, clock):
    response = client.post("/login/mfa", data={"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    trainer = make_user("trainer")
    secret, _codes = enrolled(client, trainer, clock)
    client.post("/logout")
    password_step(client, trainer)
    with client.session_transaction() as session:
        session["mfa_pending"] = {**session["mfa_pending"],
                                  "at": session["mfa_pending"]["at"] - 10 * 60}
    response = client.post("/login/mfa", data={"code": clock.code(secret)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/author/").status_code == 302


# Step-up -------------------------------------------------------------------------------

def make_stale(client) -> None:
    with client.session_transaction() as session:
        session[MFA_AT] = time.time() - 16 * 60


def give_certificate(officer) -> Certificate:
    course = db.session.scalar(sa.select(Course))
    completion = Completion(user_id=officer.id, course_id=course.id,
                            version_id=course.current_version_id)
    db.session.add(completion)
    db.session.flush()
    certificate = Certificate(
        code="ab" * 16, completion_id=completion.id, user_id=officer.id, course_id=course.id,
        version_id=course.current_version_id, holder_name=officer.display_name,
        course_slug=course.slug, course_title="Field basics", version_number=1,
        content_hash="0" * 64, issued_on=date(2030, 1, 1), expires_on=None)
    db.session.add(certificate)
    db.session.commit()
    return certificate


def test_step_up_for_role_changes_and_revocation(mfa_app, client, make_user, clock, synced):
    admin = make_user("admin")
    secret, _codes = enrolled(client, admin, clock)
    trainer = make_user("trainer")
    certificate = give_certificate(make_user("officer"))
    # Fresh from enrolment: the change goes through.
    response = client.post(f"/admin/users/{trainer.id}/", data={
        "role": "admin", "agency_id": 0, "unit_id": 0})
    assert response.status_code == 302 and response.headers["Location"].startswith("/admin/")

    make_stale(client)
    page = f"/admin/users/{trainer.id}/"
    assert client.get(page).status_code == 200  # looking is not held up
    response = client.post(page, data={"role": "trainer", "agency_id": 0, "unit_id": 0})
    assert response.headers["Location"] == f"/account/mfa/confirm?next={page}"
    db.session.expire_all()
    assert db.session.get(User, trainer.id).role == "admin"
    cert_page = f"/admin/certificates/{certificate.code}"
    response = client.post(cert_page, data={"reason": "Issued in error"})
    assert response.headers["Location"].startswith("/account/mfa/confirm?next=")
    assert db.session.get(Certificate, certificate.id).revoked_at is None

    response = client.post("/account/mfa/confirm", data={"code": "000000", "next": page})
    assert response.status_code == 401
    response = client.post("/account/mfa/confirm", data={"code": clock.code(secret),
                                                         "next": page})
    assert response.status_code == 302 and response.headers["Location"] == page
    assert client.post(page, data={"role": "trainer", "agency_id": 0,
                                   "unit_id": 0}).status_code == 302
    assert client.post(cert_page, data={"reason": "Issued in error"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, trainer.id).role == "trainer"
    assert db.session.get(Certificate, certificate.id).revoked_at is not None


@pytest.mark.parametrize("path", [
    "/admin/settings/",  # issuer and signatory printed on every certificate
    "/admin/agencies/", "/admin/agencies/1/",
    "/author/courses/field-basics/members",  # who may change and review a course
    "/author/drafts/1/publish",
])
def test_step_up_for_settings_agencies_course_members_and_publishing(
        mfa_app, client, make_user, clock, synced, path):
    secret, _codes = enrolled(client, make_user("admin"), clock)
    make_stale(client)
    response = client.post(path, data={"name": "x"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/account/mfa/confirm?next={path}"
    client.post("/account/mfa/confirm", data={"code": clock.code(secret), "next": path})
    assert not client.post(path, data={"name": "x"}).headers.get(
        "Location", "").startswith("/account/mfa/confirm")


def test_step_up_for_api_token_creation(mfa_app, client, make_user, clock, agency):
    manager = make_user("manager", agency=agency)
    secret, _codes = enrolled(client, manager, clock)
    make_stale(client)
    assert client.get("/agency/tokens/").status_code == 200
    response = client.post("/agency/tokens/", data={"name": "Payroll"})
    assert response.headers["Location"].startswith("/account/mfa/confirm?next=")
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0
    client.post("/account/mfa/confirm", data={"code": clock.code(secret),
                                              "next": "/agency/tokens/"})
    assert client.post("/agency/tokens/", data={"name": "Payroll"}).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 1


def test_no_step_up_without_a_second_factor(app, client, make_user, login_as):
    """With MFA not required and not set up, there is nothing to ask for."""
    admin = make_user("admin")
    trainer = make_user("trainer")
    login_as(admin)
    make_stale(client)
    response = client.post(f"/admin/users/{trainer.id}/", data={
        "role": "admin", "agency_id": 0, "unit_id": 0})
    assert response.status_code == 302 and "/confirm" not in response.headers["Location"]


# Resets --------------------------------------------------------------------------------

def test_admin_resets_a_second_factor_and_ends_sessions(mfa_app, make_user, clock):
    trainer, admin = make_user("trainer"), make_user("admin")
    trainer_client, admin_client = mfa_app.test_client(), mfa_app.test_client()
    enrolled(admin_client, admin, clock)
    html = admin_client.get(f"/admin/users/{trainer.id}/").get_data(as_text=True)
    assert "Not set up." in html and "Reset second factor" not in html  # nothing to reset
    enrolled(trainer_client, trainer, clock)
    assert trainer_client.get("/author/").status_code == 200
    html = admin_client.get(f"/admin/users/{trainer.id}/").get_data(as_text=True)
    assert "Reset second factor" in html

    response = admin_client.post(f"/admin/users/{trainer.id}/mfa/reset")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(MfaCredential.id)).where(
        MfaCredential.user_id == trainer.id)) == 0
    assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == trainer.id)) == 0
    assert trainer_client.get("/author/").status_code == 302  # signed out everywhere
    assert password_step(trainer_client, trainer).headers["Location"] == "/author/"
    assert trainer_client.get("/author/").headers["Location"] == "/account/mfa/enrol"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "mfa.reset")).one()
    assert (entry.actor_id, entry.target) == (admin.id, trainer.email)


def test_reset_needs_a_recent_second_factor_and_a_csrf_form(mfa_app, client, make_user, clock):
    admin, trainer = make_user("admin"), make_user("trainer")
    mfa.start_enrolment(trainer)
    enrolled(client, admin, clock)
    make_stale(client)
    response = client.post(f"/admin/users/{trainer.id}/mfa/reset")
    assert response.headers["Location"].startswith("/account/mfa/confirm")
    assert db.session.scalar(sa.select(sa.func.count(MfaCredential.id)).where(
        MfaCredential.user_id == trainer.id)) == 1
    assert client.post("/admin/users/99999/mfa/reset").status_code in (302, 404)


def test_cli_reset_mfa(runner, make_user, clock):
    trainer = make_user("trainer")
    credential = mfa.start_enrolment(trainer)
    mfa.confirm_enrolment(trainer, clock.code(mfa.totp_secret(credential)))
    db.session.commit()
    generation = trainer.session_generation
    result = runner.invoke(args=["users", "reset-mfa", trainer.email.upper()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not mfa.has_mfa(trainer.id)
    assert db.session.get(User, trainer.id).session_generation == generation + 1
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "mfa.reset")).one()
    assert entry.actor_id is None and entry.target == trainer.email
    result = runner.invoke(args=["users", "reset-mfa", "nobody@example.test"])
    assert result.exit_code != 0 and "No user" in result.output
