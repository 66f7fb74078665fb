"""Jurisdiction variants: lesson passages and final items for some jurisdictions only."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.accounts.models import Agency
from learning.accounts.service import get_or_create_agency
from learning.assessments.models import Attempt
from learning.audit.models import AuditEntry
from learning.content import load_catalogue
from learning.content.jurisdictions import body_for, find_variants
from learning.content.render import render_markdown, sanitise
from learning.extensions import db

COURSE = """---
title: Places
summary: Passages for some jurisdictions.
audience: [Officers]
objectives: [Refer a person]
pass_mark: 50
review_every: null
jurisdictions: [uk, eu]
sources: ["Test source, 2026."]
modules:
  - title: Only module
    lessons: [referral]
---
Overview.
"""
LESSON = """---
title: Referral
estimated_minutes: 5
reviewed: 2026-11-01
sources: ["Test source, 2026."]
---
GENERAL-TEXT everywhere.

::: jurisdiction uk
UK-PASSAGE about the **National Referral Mechanism**.
:::

::: jurisdiction eu, fr
EU-PASSAGE about the Directive.
:::

CLOSING-TEXT.
"""
ITEM = """  - id: {qid}
    kind: true_false
    tags: [places/{tag}]
    prompt: Statement {qid}.
    answer: true
    explanation: Because.
    sources: ["Test source, 2026."]
"""
FINAL = """assessment:
  title: Final
  final: true
  draw:
    - {tag: places/referral, count: 1}
"""


def bank(items: list[tuple[str, str, str | None]]) -> str:
    """A bank of (id, tag, jurisdictions) true/false items."""
    text = "questions:\n"
    for qid, tag, places in items:
        text += ITEM.format(qid=qid, tag=tag)
        if places:
            text += f"    jurisdictions: [{places}]\n"
    return text


ITEMS = [("general-one", "referral", None), ("uk-only", "referral", "uk"),
         ("eu-only", "referral", "eu")]


def write_course(root: Path, course: str = COURSE, lesson: str = LESSON,
                 quiz_bank: str | None = None, final: str = FINAL) -> tuple[Path, Path]:
    courses, quizzes = root / "courses", root / "quizzes"
    (courses / "places").mkdir(parents=True, exist_ok=True)
    (quizzes / "places").mkdir(parents=True, exist_ok=True)
    (courses / "places/course.md").write_text(course)
    (courses / "places/referral.md").write_text(lesson)
    (quizzes / "places/bank.yaml").write_text(quiz_bank or bank(ITEMS))
    (quizzes / "places/final.yaml").write_text(final)
    return courses, quizzes


def problems_of(root: Path) -> list[str]:
    courses, quizzes = root / "courses", root / "quizzes"
    return [str(p) for p in load_catalogue(courses, quizzes).problems]


@pytest.fixture
def content_dirs(tmp_path: Path) -> tuple[Path, Path]:
    return write_course(tmp_path / "content")


# Parsing and rendering


def test_variant_blocks_render_for_their_jurisdictions_only():
    body = LESSON.split("---\n", 2)[2]
    uk = render_markdown(body_for(body, "uk")).html
    assert "UK-PASSAGE" in uk and "EU-PASSAGE" not in uk and "GENERAL-TEXT" in uk
    assert '<div class="variant" data-jurisdictions="uk">' in uk
    assert "Applies in: United Kingdom" in uk and "<strong>National Referral" in uk
    fr = render_markdown(body_for(body, "fr")).html
    assert "EU-PASSAGE" in fr and "Applies in: European Union, France" in fr
    general = render_markdown(body_for(body, None)).html
    assert "PASSAGE" not in general and ":::" not in general
    assert "GENERAL-TEXT" in general and "CLOSING-TEXT" in general


def test_sanitiser_keeps_only_the_variant_attribute_it_needs():
    html = sanitise('<div class="variant" data-jurisdictions="uk" data-x="1" onclick="x()">'
                    '<p data-jurisdictions="uk">t</p></div>')
    assert html == '<div class="variant" data-jurisdictions="uk"><p>t</p></div>'


@pytest.mark.parametrize(("body", "line", "message"), [
    ("a\n::: jurisdiction xx\nb\n:::\n", 12, "unknown jurisdiction 'xx'"),
    ("a\n::: jurisdiction gb\nb\n:::\n", 12, "unknown jurisdiction 'gb'"),
    ("a\n::: jurisdiction\nb\n:::\n", 12, "must name at least one"),
    ("::: jurisdiction uk\n::: jurisdiction eu\nb\n:::\n", 12, "cannot hold another"),
    ("a\n\n::: jurisdiction uk\nnever closed\n", 13, "never closed"),
    ("a\n:::\n", 12, "closes no"),
])
def test_bad_fences_are_reported_at_path_and_line(body, line, message):
    problems = []
    find_variants(body, 11, "courses/x/y.md", problems)
    assert any(p.line == line and message in p.message and p.path == "courses/x/y.md"
               for p in problems), problems


def test_fences_inside_code_blocks_are_text():
    problems = []
    body = "```\n::: jurisdiction xx\n```\n"
    assert find_variants(body, 1, "p", problems) == [] and problems == []
    assert "::: jurisdiction xx" in render_markdown(body_for(body, "uk")).html


def test_content_check_reports_unknown_jurisdictions_everywhere(tmp_path):
    write_course(tmp_path, course=COURSE.replace("[uk, eu]", "[uk, atlantis]"),
                 lesson=LESSON.replace("jurisdiction eu, fr", "jurisdiction eu, zz"),
                 quiz_bank=bank([*ITEMS, ("odd", "referral", "mars")]))
    found = "\n".join(problems_of(tmp_path))
    assert re.search(r"courses/places/course\.md:8: .*unknown jurisdiction 'atlantis'", found)
    assert re.search(r"courses/places/referral\.md:13: .*unknown jurisdiction 'zz'", found)
    assert re.search(r"quizzes/places/bank\.yaml:\d+: .*unknown jurisdiction 'mars'", found)


def test_content_check_accepts_the_variants(tmp_path):
    write_course(tmp_path)
    assert problems_of(tmp_path) == []


def test_content_check_reports_a_final_that_cannot_be_filled_for_a_jurisdiction(tmp_path):
    # Generally the two-part scenario always fills the draw; in the UK the one-part item can
    # be drawn first and the scenario no longer fits.
    scenario = """  - id: case
    kind: scenario
    tags: [places/referral]
    case: A case.
    questions:
""" + "".join("    " + line + "\n" for qid in ("part-one", "part-two")
              for line in ITEM.format(qid=qid, tag="parts").splitlines())
    quiz_bank = bank([("uk-only", "referral", "uk")]) + scenario
    final = FINAL.replace("count: 1", "count: 2")
    write_course(tmp_path, quiz_bank=quiz_bank, final=final)
    found = problems_of(tmp_path)
    assert any("quizzes/places/final.yaml" in p and "for jurisdiction 'uk'" in p
               for p in found), found
    assert not any("for jurisdiction 'eu'" in p for p in found), found
    write_course(tmp_path, quiz_bank=quiz_bank.replace("[uk]", "[fr]"), final=final)
    assert problems_of(tmp_path) == []  # fr is not declared: nobody draws for it


def test_draws_take_only_items_valid_for_the_jurisdiction(tmp_path):
    courses, quizzes = write_course(tmp_path)
    course = load_catalogue(courses, quizzes).courses[0]
    final = course.quizzes.assessment("final")
    for jurisdiction, allowed in ((None, {"general-one"}),
                                  ("uk", {"general-one", "uk-only"}),
                                  ("eu", {"general-one", "eu-only"}),
                                  ("fr", {"general-one"})):
        seen = set()
        for seed in range(200):
            seen |= {q.id for q in course.quizzes.draw(final, random.Random(seed), jurisdiction)}
        assert seen == allowed, jurisdiction


# Through the app


def place(slug: str, jurisdiction: str | None) -> Agency:
    agency = get_or_create_agency(slug.title(), slug)
    agency.jurisdiction = jurisdiction
    db.session.commit()
    return agency


def read_lesson(client) -> str:
    response = client.get("/courses/places/referral/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("jurisdiction", "present", "absent"), [
    ("uk", ["UK-PASSAGE", "Applies in: United Kingdom"], ["EU-PASSAGE"]),
    ("eu", ["EU-PASSAGE"], ["UK-PASSAGE"]),
    (None, [], ["UK-PASSAGE", "EU-PASSAGE", "Applies in"]),
])
def test_officers_read_the_general_text_and_their_jurisdictions_passages(
        client, synced, make_user, login_as, jurisdiction, present, absent):
    login_as(make_user("officer", agency=place("home-office", jurisdiction)))
    html = read_lesson(client)
    assert "GENERAL-TEXT" in html and "CLOSING-TEXT" in html
    for text in present:
        assert text in html
    for text in absent:
        assert text not in html


def test_officers_of_different_jurisdictions_never_share_a_cached_page(
        app, synced, make_user, isolated_requests):
    uk, eu = place("uk-force", "uk"), place("eu-force", "eu")
    first, second = app.test_client(), app.test_client()
    for client, agency in ((first, uk), (second, eu)):
        user = make_user("officer", agency=agency)
        response = client.post("/login", data={"email": user.email,
                                                "password": "correct-horse-battery"})
        assert response.status_code == 302
    assert "UK-PASSAGE" in read_lesson(first)
    html = read_lesson(second)
    assert "EU-PASSAGE" in html and "UK-PASSAGE" not in html


def test_lesson_page_statement_count_is_unchanged_by_variants(
        client, synced, make_user, login_as, count_statements):
    login_as(make_user("officer", agency=place("uk-force", "uk")))
    read_lesson(client)  # warm-up
    with count_statements() as counted:
        assert "UK-PASSAGE" in read_lesson(client)
    assert counted.count <= 3, counted.statements


def test_final_attempts_draw_for_the_officers_jurisdiction(client, synced, make_user,
                                                           login_as):
    officer = make_user("officer", agency=place("uk-force", "uk"))
    login_as(officer)
    drawn = set()
    for _round in range(12):
        response = client.post("/courses/places/assessments/final/")
        assert response.status_code == 302
        attempt = db.session.scalars(sa.select(Attempt).where(
            Attempt.user_id == officer.id).order_by(Attempt.id.desc())).first()
        assert attempt.jurisdiction == "uk"
        drawn |= set(attempt.question_ids)
        db.session.delete(attempt)  # a fresh attempt next round
        db.session.commit()
    assert "eu-only" not in drawn and drawn <= {"general-one", "uk-only"}


def test_admin_sets_the_jurisdiction_and_bad_codes_change_nothing(
        client, synced, make_user, login_as):
    agency = place("home-office", None)
    login_as(make_user("admin"))
    url = f"/admin/agencies/{agency.id}/jurisdiction/"
    for bad in ("atlantis", "UK<script>", "gb", "x" * 500):
        assert client.post(url, data={"jurisdiction": bad}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).jurisdiction is None
    assert client.post(url, data={"jurisdiction": "uk"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).jurisdiction == "uk"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "agency.jurisdiction")) == 1
    assert 'selected value="uk"' in client.get(f"/admin/agencies/{agency.id}/").get_data(
        as_text=True)


def test_managers_see_their_agencys_jurisdiction(client, synced, make_user, login_as):
    login_as(make_user("manager", agency=place("uk-force", "uk")))
    assert "Jurisdiction: United Kingdom" in client.get("/agency/dashboard").get_data(
        as_text=True)


def test_trainers_preview_a_jurisdiction(app, client, make_user, login_as, content_dirs):
    login_as(make_user("trainer"))
    url = "/author/preview/places/referral/"
    general = client.get(url).get_data(as_text=True)
    assert "GENERAL-TEXT" in general and "UK-PASSAGE" not in general
    uk = client.get(url + "?jurisdiction=uk").get_data(as_text=True)
    assert "UK-PASSAGE" in uk and "EU-PASSAGE" not in uk
    assert client.get(url + "?jurisdiction=atlantis").status_code == 400
