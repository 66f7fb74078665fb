"""axe-core (WCAG 2.2 A and AA rules) finds nothing on every page type at 360 and 1280 px."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.accounts.cli import DEMO_PASSWORD, ensure_demo_accounts, ensure_demo_assignment
from learning.accounts.models import Agency, User
from learning.agency.models import Assignment
from learning.certificates.models import Certificate
from learning.extensions import db
from learning.jobs.models import FAILED, Job
from learning.timeutil import utcnow
from tests.browser import chromium
from tests.test_assessments import attempt_row, correct_form, start

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (360, 1280)
NOT_FOUND = (f"/verify/{'0' * 32}", "/no-such-page")
COURSE = "/courses/field-basics"
RUN_AXE = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                       resultTypes: ['violations']})
    .then(r => r.violations.map(v => ({id: v.id, help: v.help,
        targets: v.nodes.map(n => n.target.join(' '))})))"""


def officer_records(app) -> dict[str, str]:
    """The demo officer passes the final (a certificate and a result) and opens a check."""
    client = app.test_client()
    client.post("/login", data={"email": "officer@example.org", "password": DEMO_PASSWORD})
    for slug in ("first-steps", "second-steps", "hard-topics", "wrap-up"):
        client.post(f"{COURSE}/{slug}/")
    attempt_id, location = start(client)
    client.post(location + "submit", data=correct_form(attempt_row(attempt_id)))
    _check_id, check = start(client, f"{COURSE}/assessments/check-basics/")
    code = db.session.scalars(sa.select(Certificate.code)).one()
    return {"result": location + "result", "attempt": check, "review": check + "review",
            "code": code}


def page_list(app) -> dict[str | None, list[str]]:
    """Each role's pages (None: signed out), one of every page type."""
    ensure_demo_accounts()
    ensure_demo_assignment(utcnow().date())
    records = officer_records(app)
    officer_id = db.session.scalar(sa.select(User.id).where(User.email == "officer@example.org"))
    agency_id = db.session.scalar(sa.select(Agency.id))
    assignment_id = db.session.scalar(sa.select(Assignment.id))
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))
    failed = Job(kind="certificates", idempotency_key="axe", params={}, owner_id=admin.id,
                 state=FAILED, attempts=4, total=300, done=120, error=(
                     "The worker running this job stopped during its last attempt (attempt "
                     "4). Retry it to resume where it stopped. " + "x" * 120))
    db.session.add(failed)
    db.session.commit()
    return {
        None: ["/", "/login", "/forgot", "/verify/", f"/verify/{records['code']}",
               *NOT_FOUND],
        "officer": ["/training/", "/courses/", f"{COURSE}/", f"{COURSE}/second-steps/",
                    f"{COURSE}/assessments/final/", records["attempt"], records["review"],
                    records["result"], "/progress/", "/certificates/", "/account/password",
                    "/account/data", "/account/mfa/enrol"],
        "trainer": ["/author/", "/author/preview/field-basics/first-steps/",
                    "/author/courses/field-basics/items/"],
        "manager": ["/agency/", "/agency/dashboard", f"/agency/officers/{officer_id}/",
                    "/agency/staff/", "/agency/staff/import", "/agency/assignments/",
                    f"/agency/assignments/{assignment_id}/", "/agency/tokens/"],
        "admin": ["/admin/", "/admin/users/", f"/admin/users/{officer_id}/", "/admin/users/new",
                  "/admin/agencies/", f"/admin/agencies/{agency_id}/", "/admin/audit/",
                  "/admin/settings/", f"/admin/certificates/{records['code']}",
                  f"/jobs/{failed.id}", "/logout"],
    }


def test_every_page_type_has_no_wcag_violations(app, synced, live_server):
    pages = page_list(app)
    found = []
    with chromium() as browser:
        for role, urls in pages.items():
            context = browser.new_context(viewport={"width": WIDTHS[0], "height": 800})
            page = context.new_page()
            if role:
                page.goto(f"{live_server}/login")
                page.get_by_label("Email").fill(f"{role}@example.org")
                page.get_by_label("Password").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state()
                assert "/login" not in page.url, role
            for url in urls:
                response = page.goto(f"{live_server}{url}")
                expected = 404 if url in NOT_FOUND else 200
                assert (response.status, page.url) == (expected, f"{live_server}{url}"), url
                assert page.evaluate("typeof axe") == "undefined"
                page.evaluate(AXE)
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > WIDTHS[0]:  # a phone would scroll the whole page sideways
                    found.append(f"{role or 'anonymous'} {url} is {wide} px wide at 360 px")
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 800})
                    for violation in page.evaluate(RUN_AXE, TAGS):
                        found.append(f"{role or 'anonymous'} {url} @{width}px: {violation['id']}"
                                     f" ({violation['help']}) at {violation['targets']}")
                page.set_viewport_size({"width": WIDTHS[0], "height": 800})
            context.close()
    assert not found, "\n".join(found)
