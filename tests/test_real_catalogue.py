"""The shipped catalogue in courses/ and quizzes/ passes the strict check."""

from learning.config import PROJECT_ROOT
from learning.content import load_catalogue


def test_shipped_catalogue_is_strictly_valid():
    catalogue = load_catalogue(PROJECT_ROOT / "courses", PROJECT_ROOT / "quizzes")
    assert [str(p) for p in catalogue.problems] == []
    assert catalogue.courses, "no courses shipped"
    for course in catalogue.courses:
        assert course.objectives, course.slug
        for lesson in course.lessons:
            assert lesson.sources, f"{lesson.path} has no sources"
