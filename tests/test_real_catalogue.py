"""The shipped catalogue in courses/ and quizzes/: strictly valid, and complete as a curriculum."""

import random
from collections import Counter

import pytest

from learning.config import PROJECT_ROOT
from learning.content import load_catalogue

CURRICULUM = ["recognising-trafficking", "trauma-informed-interviewing", "legal-frameworks",
              "international-cooperation", "victim-protection", "border-operations"]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(PROJECT_ROOT / "courses", PROJECT_ROOT / "quizzes")


def test_shipped_catalogue_is_strictly_valid(catalogue):
    assert [str(p) for p in catalogue.problems] == []
    assert {c.slug for c in catalogue.courses} >= set(CURRICULUM)


@pytest.mark.parametrize("slug", CURRICULUM)
def test_curriculum_course_is_complete(catalogue, slug):
    course = next(c for c in catalogue.courses if c.slug == slug)
    assert len(course.objectives) >= 3
    assert 60 <= sum(lesson.estimated_minutes for lesson in course.lessons) <= 130
    for lesson in course.lessons:
        assert lesson.sources, f"{lesson.path} lists no sources"

    gradable = [part for q in course.quizzes.questions for part in q.gradable()]
    assert len(gradable) >= 40
    assert len(Counter(q.kind for q in course.quizzes.questions)) >= 4
    for question in gradable:
        assert question.explanation.strip(), f"{question.path}:{question.line} no explanation"
        assert question.sources, f"{question.path}:{question.line} no sources"

    finals = [a for a in course.quizzes.assessments if a.final]
    assert len(finals) == 1
    final = finals[0]
    assert 15 <= final.question_count <= 20 and final.pass_mark >= 80
    for seed in range(50):
        drawn = course.quizzes.draw(final, random.Random(seed))
        assert sum(len(q.gradable()) for q in drawn) == final.question_count
        assert len({q.id for q in drawn}) == len(drawn)
    checks = [lesson.check for lesson in course.lessons if lesson.check]
    assert checks, "no lesson embeds a knowledge check"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_recognising_trafficking_is_fully_translated(catalogue, language):
    """Every lesson, bank and assessment has a current translation, and every question too."""
    course = next(c for c in catalogue.courses if c.slug == "recognising-trafficking")
    found = course.translations
    assert found.stale() == ()
    assert found.course(language) is not None
    assert {t.slug for t in found.lessons if t.language == language} == \
           {lesson.slug for lesson in course.lessons}
    assert {t.slug for t in found.assessments if t.language == language} == \
           {a.slug for a in course.quizzes.assessments}
    translated = found.questions(language)
    assert all(q.id in translated for q in course.quizzes.questions)
    for question in course.quizzes.questions:  # a scenario's words are its case
        words = translated[question.id].prompt or translated[question.id].spec.get("case")
        assert words and words != (question.prompt or question.spec.get("case"))
