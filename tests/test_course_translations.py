"""Course translations: sibling files tied to the source's hash, checked and served."""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import get_domain, refresh

from learning.catalogue.service import sync_catalogue
from learning.content import load_catalogue
from learning.content.questions import grade_attempt
from learning.extensions import db
from learning.progress.models import LessonProgress
from tests.conftest import FIXTURE_CONTENT

OFFERED = ["ar", "zh_Hans", "en", "fr", "ru", "es"]
LESSON_FR = "courses/field-basics/first-steps.fr.md"
BANK_FR = "quizzes/field-basics/bank.fr.yaml"


@pytest.fixture
def app_config(app_config):
    """Every UN language offered (no compiled catalogue needed to pick one)."""
    return dict(app_config, LANGUAGES=OFFERED)


@pytest.fixture(autouse=True)
def forget_catalogues(app):
    """Flask-Babel caches catalogues per locale for the process: leave none for later tests."""
    yield
    with app.app_context():
        get_domain().cache.clear()


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A writable copy of the fixture content."""
    shutil.copytree(FIXTURE_CONTENT, tmp_path / "content")
    return tmp_path / "content"


def load(root: Path):
    return load_catalogue(root / "courses", root / "quizzes")


def messages(root: Path) -> list[str]:
    return [str(p) for p in load(root).problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_fixture_translations_load_current_and_clean(content):
    result = load(content)
    assert not result.failed(strict=True), result.problems
    translations = result.courses[0].translations
    assert [t.path for t in translations.lessons] == [LESSON_FR]
    assert translations.lesson("first-steps", "fr").title == "Premiers pas"
    assert translations.stale() == ()
    assert "first-steps.fr" not in {lesson.slug for lesson in result.courses[0].lessons}


def test_changed_source_makes_the_translation_stale(content, app):
    edit(content / "courses/field-basics/first-steps.md", "The first lesson.", "The 1st lesson.")
    result = load(content)
    assert f"{LESSON_FR}:2: warning: stale translation: the source has changed since " \
           "(update the text, then 'translates')" in map(str, result.problems)
    assert not result.failed() and result.failed(strict=True)
    assert result.courses[0].translations.stale() == (LESSON_FR,)
    app.config.update(COURSES_DIR=str(content / "courses"), QUIZZES_DIR=str(content / "quizzes"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "check"]).exit_code == 0
    strict = runner.invoke(args=["content", "check", "--strict"])
    assert strict.exit_code == 1 and f"{LESSON_FR}:2: warning: stale translation" in strict.output


def test_unknown_language_and_missing_hash_are_errors(content):
    shutil.copy(content / LESSON_FR, content / "courses/field-basics/first-steps.xx.md")
    edit(content / LESSON_FR, "translates: 34f3", "translated: 34f3")
    found = messages(content)
    assert ("courses/field-basics/first-steps.xx.md:1: unknown translation language 'xx' "
            "(use one of: ar, zh_Hans, fr, ru, es)") in found
    assert any(m.startswith(f"{LESSON_FR}:2: ") and "'translates'" in m for m in found)
    assert load(content).courses == ()


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("- id: elements", "- id: elementz", "17: question id 'elementz' is not in the source bank"),
    ("kind: true_false\n    tags: [basics/definition]",
     "kind: short_text\n    accept: [vrai]\n    tags: [basics/definition]",
     "31: question 'smuggling-ends' kind 'short_text' differs from the source's 'true_false'"),
    ("      - {text: Un paiement à la victime}\n", "",
     "17: question 'elements' has 4 options; the source has 5"),
    ("      - {text: Un passage de frontière}", "      - {text: Un passage, correct: true}",
     "17: question 'elements' marks different options correct than the source"),
    ("answer: 30", "answer: 31",
     "56: question 'recovery-days' 'answer' 31.0 differs from the source's 30.0"),
])
def test_translated_bank_mismatch_is_an_error_at_its_line(content, old, new, expected):
    edit(content / BANK_FR, old, new)
    found = [m for m in messages(content) if m.startswith(BANK_FR + ":")]
    line, message = expected.split(": ", 1)
    assert any(m.startswith(f"{BANK_FR}:{line}: {message}") for m in found), found
    assert load(content).courses == ()


def test_grading_is_identical_in_every_language(content):
    course = load(content).courses[0]
    source = [q for q in course.quizzes.questions if q.path.endswith("/bank.yaml")]
    french = [course.translations.questions("fr")[q.id] for q in source]
    assert french[0].prompt.startswith("Un accompagnateur")
    rng = random.Random(7)
    for _ in range(40):
        answers = {}
        for question in source:
            for part in question.gradable():
                if part.kind in ("single", "multiple"):
                    keys = [c.key for c in part.spec["options"]]
                    answers[part.id] = rng.choice(keys) if part.kind == "single" \
                        else sorted(rng.sample(keys, 2))
                elif part.kind == "matching":
                    rights = [key for key, _ in part.spec["rights"]]
                    answers[part.id] = {left: rng.choice(rights)
                                        for left, _t, _r in part.spec["pairs"]}
                elif part.kind == "ordering":
                    answers[part.id] = rng.sample([k for k, _ in part.spec["items"]], 5)
                elif part.kind == "numeric":
                    answers[part.id] = rng.choice([30, 30.4, 31])
                elif part.kind == "true_false":
                    answers[part.id] = rng.random() < 0.5
                else:
                    answers[part.id] = rng.choice(["Palermo", "Palerme"])
        assert grade_attempt(french, answers) == grade_attempt(source, answers)


def _reader(make_user, login_as, app, language):
    officer = make_user("officer")
    officer.language = language
    db.session.commit()
    login_as(officer)
    refresh()  # the tests share one app context, where Flask-Babel keeps the locale it chose
    return officer


def test_french_officer_reads_french_and_it_counts(client, app, synced, make_user, login_as):
    officer = _reader(make_user, login_as, app, "fr")
    html = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    assert '<article class="lesson" lang="fr" dir="ltr">' in html
    assert "<h1>Premiers pas</h1>" in html and "La première leçon." in html
    assert "translation-note" not in html
    client.post("/courses/field-basics/first-steps/")
    read = db.session.scalars(sa.select(LessonProgress.lesson_slug)
                              .where(LessonProgress.user_id == officer.id)).all()
    assert read == ["first-steps"]  # progress is per lesson, whatever the language


def test_arabic_officer_without_arabic_reads_the_source_with_a_note(client, app, synced,
                                                                     make_user, login_as):
    _reader(make_user, login_as, app, "ar")
    html = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    assert '<article class="lesson" lang="en" dir="ltr">' in html
    assert "The first lesson." in html and "translation-missing" in html


@pytest.mark.parametrize("policy", ["notice", "source"])
def test_stale_translation_follows_the_course_setting(client, app, app_ctx, content, make_user,
                                                      login_as, policy):
    edit(content / "courses/field-basics/first-steps.md", "The first lesson.", "The 1st lesson.")
    edit(content / "courses/field-basics/course.md", "pass_mark: 80",
         f"pass_mark: 80\nstale_translations: {policy}")
    report = sync_catalogue(content / "courses", content / "quizzes")
    assert report.ok, report.problems
    _reader(make_user, login_as, app, "fr")
    html = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    if policy == "notice":
        assert "La première leçon." in html and "translation-stale" in html
        assert "/courses/field-basics/first-steps/?original=1" in html
        original = client.get("/courses/field-basics/first-steps/?original=1")
        assert "The 1st lesson." in original.get_data(as_text=True)
    else:
        assert "The 1st lesson." in html and "La première leçon." not in html


def test_translations_change_the_version_hash(content):
    before = load(content).courses[0].content_hash
    (content / LESSON_FR).unlink()
    assert load(content).courses[0].content_hash != before


def test_lesson_page_statements_unchanged_with_a_translation(client, app, synced, make_user,
                                                            login_as, count_statements):
    _reader(make_user, login_as, app, "fr")
    client.get("/courses/field-basics/first-steps/")  # warm-up
    with count_statements() as counted:
        response = client.get("/courses/field-basics/first-steps/")
    assert "Premiers pas" in response.get_data(as_text=True)
    assert counted.count <= 3, counted.statements


def test_hash_is_the_source_files_sha256():
    source = (FIXTURE_CONTENT / "courses/field-basics/first-steps.md").read_bytes()
    text = (FIXTURE_CONTENT / LESSON_FR).read_text(encoding="utf-8")
    assert f"translates: {hashlib.sha256(source).hexdigest()}" in text


def test_trainers_see_stale_translations_on_author(client, app, content, make_user, login_as):
    edit(content / "courses/field-basics/first-steps.md", "The first lesson.", "The 1st lesson.")
    app.config.update(COURSES_DIR=str(content / "courses"), QUIZZES_DIR=str(content / "quizzes"))
    login_as(make_user("trainer"))
    html = client.get("/author/").get_data(as_text=True)
    assert f'<ul class="stale-translations"><li><code>{LESSON_FR}</code></li></ul>' in html
    assert f"<code>{LESSON_FR}:2</code>" in html


def test_french_attempt_shows_french_grades_the_same_and_certifies_in_french(
        client, app, synced, make_user, login_as):
    from tests.test_assessments import attempt_row, correct_form, start
    from tests.test_certificates import certificates, read_all_lessons

    _reader(make_user, login_as, app, "fr")
    read_all_lessons(client)
    attempt_id, location = start(client)
    attempt = attempt_row(attempt_id)
    assert attempt.language == "fr"
    page_html = client.get(location).get_data(as_text=True)
    french = {"companion-holds-passport": "Un accompagnateur", "elements": "Quels sont",
              "smuggling-ends": "Le trafic illicite", "notices": "Associez",
              "peace": "Ordonnez", "recovery-days": "Combien de jours",
              "protocol-city": "Quelle ville", "airport-case": "Une adolescente"}
    shown = [qid for qid in attempt.question_ids if qid in french]
    assert shown and all(french[qid] in page_html for qid in shown)
    client.post(location + "submit", data=correct_form(attempt))
    attempt = attempt_row(attempt_id)
    assert attempt.passed and attempt.percent == 100
    (certificate,) = certificates()
    assert certificate.course_title == "Notions de terrain"
    assert certificate.version_number == 1


FINAL_FR = "quizzes/field-basics/final.fr.yaml"


def test_translated_assessment_loads_with_words_only(content):
    course = load(content).courses[0]
    (found,) = course.translations.assessments
    assert (found.path, found.title, found.stale) == (FINAL_FR, "Évaluation finale", False)
    final = found.apply(course.quizzes.assessment("final"))
    assert final.title == "Évaluation finale"
    assert [t.title for t in final.topics] == ["Ce qu'est la traite", "Les instruments juridiques"]
    source = course.quizzes.assessment("final")
    assert (final.draw, final.pass_mark, final.max_attempts) == \
           (source.draw, source.pass_mark, source.max_attempts)
    assert [t.lessons for t in final.topics] == [t.lessons for t in source.topics]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  title: Évaluation finale", "  title: Évaluation finale\n  pass_mark: 10",
     "4: unknown key 'pass_mark'"),
    ("basics/legal: {title", "basics/illegal: {title",
     "6: topic 'basics/illegal' is not a topic of quizzes/field-basics/final.yaml"),
    ("{title: Les instruments juridiques}", "{title: Les instruments, lessons: [wrap-up]}",
     "6: topic 'basics/legal' holds only its 'title'"),
])
def test_translated_assessment_cannot_change_rules(content, old, new, expected):
    edit(content / FINAL_FR, old, new)
    found = [m for m in messages(content) if m.startswith(FINAL_FR + ":")]
    assert f"{FINAL_FR}:{expected}" in found, found


def test_stale_translated_assessment_is_a_warning_and_shows_the_source(content):
    edit(content / "quizzes/field-basics/final.yaml", "pass_mark: 80", "pass_mark: 75")
    result = load(content)
    assert any(str(p).startswith(f"{FINAL_FR}:1: warning: stale translation")
               for p in result.problems)
    assert FINAL_FR in result.courses[0].translations.stale()


def test_french_officer_sees_the_final_in_french(client, app, synced, make_user, login_as):
    _reader(make_user, login_as, app, "fr")
    html = client.get("/courses/field-basics/assessments/final/").get_data(as_text=True)
    assert "<h1>Évaluation finale</h1>" in html
    assert "Notions de terrain" in html


def test_english_officer_sees_the_final_in_english(client, app, synced, make_user, login_as):
    _reader(make_user, login_as, app, "en")
    html = client.get("/courses/field-basics/assessments/final/").get_data(as_text=True)
    assert "<h1>Final assessment</h1>" in html and "Évaluation" not in html


def test_translated_lesson_cites_its_own_sources(client, app, synced, make_user, login_as):
    _reader(make_user, login_as, app, "fr")
    html = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    sources = html[html.index('class="sources-section'):]
    assert "Une source" in sources and "A source" not in sources
    assert 'lang="fr"' in sources[:200]


def test_translated_lesson_shows_its_jurisdiction_passages(client, app, app_ctx, content,
                                                            make_user, login_as):
    from learning.accounts.service import get_or_create_agency

    edit(content / LESSON_FR, "## Commencer ici\n",
         "## Commencer ici\n\n::: jurisdiction uk\nAu Royaume-Uni, le NRM.\n:::\n")
    report = sync_catalogue(content / "courses", content / "quizzes")
    assert report.ok, report.problems
    agency = get_or_create_agency("UK Force", "uk-force")
    agency.jurisdiction = "uk"
    officer = make_user("officer", agency=agency)
    officer.language = "fr"
    db.session.commit()
    login_as(officer)
    refresh()
    html = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    assert "Au Royaume-Uni, le NRM." in html and "La première leçon." in html
    general = make_user("officer")
    general.language = "fr"
    db.session.commit()
    login_as(general)
    refresh()
    html = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    assert "Au Royaume-Uni" not in html and "La première leçon." in html


def test_translated_short_answer_accepts_the_source_and_the_language(content):
    edit(content / BANK_FR, "accept: [Palermo]", "accept: [Palerme]")
    course = load(content).courses[0]
    assert not load(content).failed(strict=True)
    source = next(q for q in course.quizzes.questions if q.id == "protocol-city")
    french = course.translations.questions("fr")["protocol-city"]
    assert grade_attempt([french], {"protocol-city": "palerme"}).score == 1
    assert grade_attempt([french], {"protocol-city": "Palermo"}).score == 1
    assert grade_attempt([source], {"protocol-city": "Palerme"}).score == 0
    assert grade_attempt([french], {"protocol-city": "Paris"}).score == 0


def test_french_reader_gets_the_course_pages_in_french(client, app, synced, make_user,
                                                       login_as):
    _reader(make_user, login_as, app, "fr")
    overview = client.get("/courses/field-basics/").get_data(as_text=True)
    assert "<h1>Notions de terrain</h1>" in overview
    assert "Un cours de démonstration utilisé par les tests." in overview
    assert "Premier module" in overview and "Deuxième module" in overview
    assert ">Premiers pas</a>" in overview  # the lesson's translated title in the contents
    assert "Évaluation finale" in overview
    listing = client.get("/courses/").get_data(as_text=True)
    assert "Notions de terrain" in listing
    lesson = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    assert "Notions de terrain</a>" in lesson and "Premier module" in lesson


def test_english_reader_gets_the_course_pages_in_english(client, app, synced, make_user,
                                                         login_as):
    _reader(make_user, login_as, app, "en")
    overview = client.get("/courses/field-basics/").get_data(as_text=True)
    assert "Notions de terrain" not in overview and "Premier module" not in overview
    assert ">First steps</a>" in overview


def test_my_training_names_the_course_in_the_readers_language(client, app, synced, make_user,
                                                              login_as):
    _reader(make_user, login_as, app, "fr")
    assert "Notions de terrain" in client.get("/training/").get_data(as_text=True)


def test_a_browser_edit_keeps_the_translations_and_leaves_the_edited_one_stale(
        client, app, synced, make_user, login_as):
    from learning.catalogue.models import Course, CourseVersion
    from tests.authoring import LESSON, editor_fields, make_owner, open_draft, save

    trainer = make_user("trainer")
    make_owner(trainer)
    login_as(trainer)
    draft_id = open_draft(client)
    fields = editor_fields(client, draft_id, LESSON)
    save(client, draft_id, LESSON, fields["text"].replace("The first lesson.", "Lesson one."),
         fields)
    page = client.get(f"/author/drafts/{draft_id}/publish")
    assert page.status_code == 200
    response = client.post(f"/author/drafts/{draft_id}/publish",
                           data={"confirm": "yes", "significance-first-steps": "substantive"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    db.session.expire_all()
    course = db.session.scalar(sa.select(Course).where(Course.slug == "field-basics"))
    version = db.session.get(CourseVersion, course.current_version_id)
    assert version.number == 2
    assert {LESSON_FR, BANK_FR, FINAL_FR} <= set(version.files)
    assert version.translations["stale"] == [LESSON_FR]
    _reader(make_user, login_as, app, "fr")
    html = client.get("/courses/field-basics/first-steps/").get_data(as_text=True)
    assert "La première leçon." in html and "translation-stale" in html
    assert "Notions de terrain" in client.get("/courses/field-basics/").get_data(as_text=True)


def test_a_stale_bank_translation_that_no_longer_matches_is_left_out_with_a_warning(content):
    edit(content / "quizzes/field-basics/bank.yaml", "answer: 30", "answer: 31")
    result = load(content)
    found = [str(p) for p in result.problems if p.path == BANK_FR]
    assert any("warning: stale translation" in m for m in found)
    assert any("warning: question 'recovery-days' 'answer' 30.0 differs" in m for m in found)
    assert not result.failed() and result.failed(strict=True)
    assert "recovery-days" not in result.courses[0].translations.questions("fr")
