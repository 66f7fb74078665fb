"""An officer reads a course: catalogue, overview, lessons, marking complete, progress."""

import re

import sqlalchemy as sa

from learning.accounts.models import User
from learning.catalogue.service import sync_catalogue
from learning.extensions import db
from learning.progress.models import LessonProgress
from tests.conftest import csrf_token_from


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_lesson_flow(client, synced, make_user, login_as):
    officer = make_user("officer")
    login_as(officer)
    catalogue = page(client, "/courses/")
    assert "Field basics" in catalogue and "0 of 4 lessons" in catalogue
    assert "Not started" in catalogue

    overview = page(client, "/courses/field-basics/")
    assert "Read four short lessons." in overview  # objectives
    assert "First module" in overview and "Second module" in overview
    assert "25 min" in overview
    assert 'href="/courses/field-basics/first-steps/">Start the course' in overview

    lesson = page(client, "/courses/field-basics/first-steps/")
    assert "Lesson 1 of 4" in lesson and "First module" in lesson
    # Not read yet: "Next" is a button that marks the lesson complete on the way.
    assert 'rel="next"' not in lesson
    assert re.search(r'<form method="post" action="/courses/field-basics/first-steps/" '
                     r'class="complete-and-continue">', lesson)
    assert "Mark complete and continue" in lesson and "Next: Second steps" in lesson
    assert 'rel="prev"' not in lesson
    assert "Take the first step." in lesson  # lesson objectives
    assert re.search(r'<h2 id="sources">Sources</h2>\s*<ol class="sources">'
                     r'<li><a href="https://example.org/source"', lesson)

    response = client.post("/courses/field-basics/first-steps/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/courses/field-basics/second-steps/"
    second = page(client, "/courses/field-basics/second-steps/")
    assert "Lesson marked as complete." in second
    assert 'rel="prev" href="/courses/field-basics/first-steps/"' in second

    overview = page(client, "/courses/field-basics/")
    assert "1 of 4 lessons" in overview
    assert 'href="/courses/field-basics/second-steps/">Continue where you stopped' in overview
    assert "In progress" in page(client, "/courses/")

    for slug in ("second-steps", "hard-topics", "wrap-up"):
        response = client.post(f"/courses/field-basics/{slug}/")
    assert response.headers["Location"] == "/courses/field-basics/"
    overview = page(client, "/courses/field-basics/")
    assert "You have completed every lesson." in overview and "4 of 4 lessons" in overview
    assert "All lessons read" in page(client, "/courses/")


def test_marking_complete_twice_keeps_one_row(client, synced, make_user, login_as):
    officer = make_user("officer")
    login_as(officer)
    client.post("/courses/field-basics/first-steps/")
    client.post("/courses/field-basics/first-steps/")
    rows = db.session.scalars(sa.select(LessonProgress)).all()
    assert [(r.user_id, r.lesson_slug) for r in rows] == [(officer.id, "first-steps")]
    assert "You completed this lesson." in page(client, "/courses/field-basics/first-steps/")


def test_progress_belongs_to_its_owner(client, synced, make_user, login_as):
    first, second = make_user("officer"), make_user("officer")
    login_as(first)
    client.post("/courses/field-basics/first-steps/")
    client.post("/logout")
    login_as(second)
    assert "0 of 4 lessons" in page(client, "/courses/field-basics/")
    owners = set(db.session.scalars(sa.select(LessonProgress.user_id)))
    assert owners == {first.id}


def test_mark_complete_needs_a_csrf_token(app, client, synced, make_user, login_as):
    login_as(make_user("officer"))
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/courses/field-basics/first-steps/")
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonProgress)) == 0
    token = csrf_token_from(page(client, "/courses/field-basics/first-steps/"))
    response = client.post("/courses/field-basics/first-steps/", data={"csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonProgress)) == 1


def test_content_warning_comes_before_the_lesson(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    html = page(client, "/courses/field-basics/hard-topics/")
    warning = html.index("This lesson describes exploitation in general terms.")
    assert warning < html.index("Body text of the hard lesson.")
    assert 'href="#lesson-body"' in html
    assert "Content warning" not in page(client, "/courses/field-basics/first-steps/")


def test_images_are_served_by_hash_and_cached(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    html = page(client, "/courses/field-basics/first-steps/")
    src = re.search(r'src="(/media/[0-9a-f]{64}\.png)"', html).group(1)
    response = client.get(src)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "immutable" in response.headers["Cache-Control"]
    assert client.get(src.replace(".png", ".gif")).status_code == 404
    assert client.get("/media/" + "0" * 64 + ".png").status_code == 404


def test_pages_carry_security_headers_and_landmarks(client, synced, make_user, login_as):
    login_as(make_user("officer"))
    response = client.get("/courses/field-basics/first-steps/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html and "<header" in html and "<nav" in html
    assert html.count("<h1>") == 1


def test_lesson_page_sql_statements_do_not_grow(client, app, synced, make_user, login_as,
                                                count_statements, tmp_path, isolated_requests):
    """One statement per lesson page (the reader with the course and their progress),
    however many lessons and users exist."""
    officer = make_user("officer")
    login_as(officer)
    client.post("/courses/field-basics/first-steps/")
    client.get("/courses/field-basics/second-steps/")  # warm-up
    with count_statements() as small:
        page(client, "/courses/field-basics/second-steps/")
    assert small.count == 1, small.statements

    # A course of 60 lessons and 300 more users.
    big = tmp_path / "courses/big-course"
    big.mkdir(parents=True)
    slugs = [f"lesson-{n:02d}" for n in range(60)]
    (big / "course.md").write_text(
        "---\ntitle: Big\nsummary: S\naudience: [A]\nobjectives: [O]\npass_mark: 80\n"
        "sources: [S]\nmodules:\n  - title: M\n    lessons: [" + ", ".join(slugs) + "]\n---\n")
    for slug in slugs:
        (big / f"{slug}.md").write_text(
            f"---\ntitle: {slug}\nestimated_minutes: 5\nsources: [S]\n---\nText.\n")
    sync_catalogue(tmp_path / "courses")
    db.session.add_all(User(email=f"bulk{n}@example.test", display_name="Bulk", role="officer",
                            agency_id=officer.agency_id) for n in range(300))
    db.session.commit()
    for slug in slugs[:30]:
        client.post(f"/courses/big-course/{slug}/")
    client.get("/courses/big-course/lesson-40/")
    with count_statements() as large:
        page(client, "/courses/big-course/lesson-40/")
    assert large.count == small.count, large.statements
