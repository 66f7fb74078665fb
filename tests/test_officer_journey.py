"""Officer journeys: the landing page, the certificate-code form and My training."""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from learning.agency.compliance import Held, Requirement
from learning.agency.service import create_assignment
from learning.catalogue.models import Course
from learning.extensions import db
from learning.timeutil import utcnow
from learning.training.service import most_urgent, my_training
from tests.test_assessments import start
from tests.test_certificates import pass_final, read_all_lessons


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def course_id() -> int:
    return db.session.scalar(sa.select(Course.id).where(Course.slug == "field-basics"))


def assign(manager, officer, due_on: date) -> None:
    create_assignment(manager, course_id(), due_on, "none", None, [], [officer.email])
    db.session.commit()


# Landing page and certificate-code form

def test_landing_page_is_public_with_sign_in_and_code_form(client, app_ctx):
    html = page(client, "/")
    assert 'href="/login"' in html
    assert 'action="/verify/"' in html and 'name="code"' in html


def test_signed_in_users_go_to_their_home(client, make_user, login_as, app_ctx):
    for role, target in (("officer", "/training/"), ("manager", "/agency/"),
                         ("trainer", "/author/"), ("admin", "/admin/")):
        user = make_user(role)
        login_as(user)
        response = client.get("/")
        assert response.status_code == 302 and response.headers["Location"] == target, role
        client.post("/logout")


def test_verify_form_page_and_redirect(client, app_ctx):
    html = page(client, "/verify/")
    assert 'name="code"' in html
    code = "ab" * 16
    for typed in (code, f"  {code.upper()} ", f"https://example.org/verify/{code}?p=WM1.x"):
        response = client.get("/verify/", query_string={"code": typed})
        assert response.status_code == 303, typed
        assert response.headers["Location"] == f"/verify/{code}"


def test_verify_form_refuses_empty_or_huge_codes(client, app_ctx):
    for typed in ("", "   ", "x" * 301, "/verify/"):
        response = client.get("/verify/", query_string={"code": typed})
        assert response.status_code == 400, typed
        assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_verify_code_pages_stay_identical_for_unknown_and_malformed(client, app_ctx):
    unknown = client.get("/verify/" + "0" * 32)
    malformed = client.get("/verify/not-a-code")
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.get_data() == malformed.get_data()


# My training

def test_assigned_course_comes_first_with_due_date(client, synced, agency, make_user, login_as):
    officer = make_user("officer", agency=agency)
    manager = make_user("manager", agency=agency)
    due = utcnow().date() + timedelta(days=30)
    assign(manager, officer, due)
    login_as(officer)
    html = page(client, "/training/")
    assigned = html.split('id="assigned-title"')[1].split('id="other-title"')[0]
    assert "Field basics" in assigned
    assert f"due {due.isoformat()}, in 30 days" in assigned
    assert "Not started" in assigned


def test_overdue_assignment_says_so(client, synced, agency, make_user, login_as):
    officer = make_user("officer", agency=agency)
    manager = make_user("manager", agency=agency)
    due = utcnow().date() - timedelta(days=3)
    assign(manager, officer, due)
    login_as(officer)
    html = page(client, "/training/")
    assert "Overdue" in html and f"was due {due.isoformat()}" in html


def test_unassigned_officer_sees_courses_under_other(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    html = page(client, "/training/")
    assert "has not assigned you any course" in html
    assert 'href="/courses/field-basics/"' in html.split('id="other-title"')[1]


def test_other_agencies_assignments_do_not_show(client, synced, agency, make_user, login_as):
    from learning.accounts.service import get_or_create_agency
    other = get_or_create_agency("Elsewhere", "elsewhere")
    officer = make_user("officer", agency=agency)
    assign(make_user("manager", agency=other), make_user("officer", agency=other),
           utcnow().date())
    login_as(officer)
    assert "has not assigned you any course" in page(client, "/training/")


def test_certified_course_links_the_certificate(client, synced, agency, make_user, login_as):
    officer = make_user("officer", agency=agency)
    assign(make_user("manager", agency=agency), officer, utcnow().date() + timedelta(days=5))
    login_as(officer)
    read_all_lessons(client)
    pass_final(client)
    html = page(client, "/training/")
    assert "Certified until" in html and ".pdf" in html
    assert "Certified until" in page(client, "/courses/")


def test_all_lessons_read_is_not_certified(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    read_all_lessons(client)
    html = page(client, "/courses/")
    assert "All lessons read; not certified yet" in html and "Certified until" not in html


def test_my_training_costs_a_few_statements(client, synced, agency, make_user, login_as,
                                            count_statements):
    officer = make_user("officer", agency=agency)
    assign(make_user("manager", agency=agency), officer, utcnow().date())
    login_as(officer)
    client.get("/training/")
    with count_statements() as counter:
        my_training(officer, utcnow().date(), 90)
    assert counter.count <= 6


def test_most_urgent_of_several_assignments_wins():
    today = date(2030, 6, 1)
    later = Requirement(1, 7, "", date(2030, 9, 1), "none", None, frozenset(), frozenset({1}))
    sooner = Requirement(2, 7, "", date(2030, 5, 1), "none", None, frozenset(), frozenset({1}))
    assert most_urgent([later, sooner], None, False, today, 30) == ("overdue", date(2030, 5, 1))
    assert most_urgent([later], None, True, today, 30) == ("in_progress", date(2030, 9, 1))
    held = Held(date(2030, 1, 1), date(2030, 6, 20))
    assert most_urgent([later], held, True, today, 30)[0] == "expiring"
    assert most_urgent([], None, False, today, 30) is None


# Lessons: "Next" carries the completion

def test_next_marks_the_lesson_complete_and_sources_follow(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    html = page(client, "/courses/field-basics/first-steps/")
    assert html.index("Mark complete and continue") < html.index('<h2 id="sources">')
    response = client.post("/courses/field-basics/first-steps/")
    assert response.headers["Location"] == "/courses/field-basics/second-steps/"
    again = page(client, "/courses/field-basics/first-steps/")
    assert "Mark complete and continue" not in again
    assert 'rel="next" href="/courses/field-basics/second-steps/"' in again
    last = page(client, "/courses/field-basics/wrap-up/")
    assert "Mark complete and finish" in last


def test_lesson_tables_get_a_scroll_region_and_hint(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    html = page(client, "/courses/field-basics/second-steps/")
    assert 'class="table-scroll" role="region" tabindex="0"' in html
    assert 'class="table-hint"' in html
    assert 'class="table-hint"' not in page(client, "/courses/field-basics/first-steps/")


# Results: certificates and practice checks

def test_passing_final_that_completes_course_links_certificate(client, synced, make_user,
                                                               login_as):
    login_as(make_user("officer"))
    read_all_lessons(client)
    attempt = pass_final(client)
    html = page(client, f"/courses/field-basics/assessments/final/attempts/{attempt.id}/result")
    assert "You have completed the course" in html
    assert re.search(r'href="/certificates/[0-9a-f]{32}\.pdf"', html)


def test_passing_final_with_lessons_left_says_what_remains(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    attempt = pass_final(client)
    html = page(client, f"/courses/field-basics/assessments/final/attempts/{attempt.id}/result")
    assert "Read the 4 remaining lessons" in html and ".pdf" not in html


def test_practice_checks_are_not_graded(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    url = "/courses/field-basics/assessments/check-basics/"
    start_html = page(client, url)
    assert "Pass mark" not in start_html and "not graded" in start_html
    attempt_id, location = start(client, url)
    client.post(location + "submit", data={"sequence": "1"})
    result = page(client, f"{url}attempts/{attempt_id}/result")
    assert "Not passed" not in result and "not graded" in result
    assert "Not passed" not in page(client, url) and "Done (not graded)" in page(client, url)


# Review and submit

def test_review_saves_lists_unanswered_and_does_not_grade(client, synced, make_user, login_as):
    from tests.test_assessments import attempt_row, correct_form
    login_as(make_user("officer"))
    attempt_id, location = start(client, "/courses/field-basics/assessments/final/")
    html = page(client, location)
    assert 'action="' + location + 'review"' in html and "Submit for grading" not in html
    assert "0 of " in html and 'class="question-nav"' in html
    form = correct_form(attempt_row(attempt_id))
    first, *rest = form["included"]
    partial = {"sequence": "1000", "included": [first]}
    partial.update({k: v for k, v in form.items() if k.startswith(f"q-{first}")})
    response = client.post(location + "review", data=partial)
    assert response.status_code == 303 and response.headers["Location"] == location + "review"
    review = page(client, location + "review")
    assert attempt_row(attempt_id).status == "open"  # nothing graded yet
    assert attempt_row(attempt_id).saved_values().get(first) is not None
    for qid in rest:
        assert f'href="{location}#question-{qid}"' in review
    assert f'#question-{first}"' not in review
    for secret in ("SECRET-EXPLANATION", "WAVE-FEEDBACK", "correct</span>"):
        assert secret not in review
    assert f'action="{location}submit"' in review
    client.post(location + "submit", data={"sequence": "2000"})
    client.post(location + "submit", data={"sequence": "2001"})  # a second click
    graded = attempt_row(attempt_id)
    assert graded.status == "submitted" and graded.saved_values().get(first) is not None
    assert client.get(location + "review").headers["Location"].endswith("/result")


def test_review_of_someone_elses_attempt_is_404(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    _attempt_id, location = start(client, "/courses/field-basics/assessments/final/")
    login_as(make_user("officer"))
    assert client.get(location + "review").status_code == 404
    assert client.post(location + "review", data={"sequence": "5"}).status_code == 404


def test_review_refuses_bad_input(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    attempt_id, location = start(client, "/courses/field-basics/assessments/final/")
    assert client.post(location + "review", data={"included": ["nope"],
                                                  "sequence": "1"}).status_code == 400
    assert client.post(location + "review", data={"sequence": "x"}).status_code == 400


def test_demo_assigns_a_course_to_the_demo_officer_once(runner, synced, client, login_as):
    from learning.accounts.service import find_user_by_email
    from learning.agency.models import Assignment
    first = runner.invoke(args=["demo"])
    assert "due in 30 days" in first.output
    assert "due in 30 days" not in runner.invoke(args=["demo"]).output
    assert len(db.session.scalars(sa.select(Assignment)).all()) == 1
    login_as(find_user_by_email("officer@example.org"), "waymark-demo")
    assert "in 30 days" in page(client, "/training/")
