"""Lesson currency: review dates, due dates and warnings, on fixed dates."""

from __future__ import annotations

from datetime import date

import pytest

from learning.content import load_catalogue
from learning.content.currency import add_months, stale_lessons
from tests.conftest import FIXTURES
from tests.test_content_loader import GOOD_COURSE, GOOD_LESSON, write

ITEMWRITING = FIXTURES / "itemwriting"


def lesson_messages(today: date) -> list[str]:
    catalogue = load_catalogue(ITEMWRITING / "courses", ITEMWRITING / "quizzes", today=today)
    return [str(p) for p in catalogue.problems if p.path.startswith("courses/")]


def test_past_due_and_undated_lessons_are_warned_about():
    assert lesson_messages(date(2026, 3, 1)) == [
        "courses/iw/own-period.md:5: warning: lesson past its review date (reviewed 2025-06-01, "
        "every 6 months, due 2025-12-01)",
        "courses/iw/stale.md:5: warning: lesson past its review date (reviewed 2024-01-10, "
        "every 24 months, due 2026-01-10)",
        "courses/iw/undated.md:1: warning: lesson has no 'reviewed: YYYY-MM-DD' date (when a "
        "trainer last checked it)",
    ]


def test_a_lesson_is_due_on_its_date_and_past_due_the_day_after():
    assert not any("stale.md" in m for m in lesson_messages(date(2026, 1, 10)))
    assert any("stale.md" in m for m in lesson_messages(date(2026, 1, 11)))
    assert not any("own-period.md" in m for m in lesson_messages(date(2025, 11, 30)))


def test_stale_lessons_for_trainers_include_those_due_within_60_days():
    course = load_catalogue(ITEMWRITING / "courses", ITEMWRITING / "quizzes").courses[0]
    found = [(status.lesson.slug, state, status.due)
             for status, state in stale_lessons(course, date(2026, 3, 1))]
    assert found == [("undated", "undated", None),
                     ("own-period", "overdue", date(2025, 12, 1)),
                     ("stale", "overdue", date(2026, 1, 10)),
                     ("soon", "due_soon", date(2026, 4, 1))]  # current.md is due 2028-01-10
    assert [s.lesson.slug for s, _ in stale_lessons(course, date(2026, 3, 1), within_days=10)
            ] == ["undated", "own-period", "stale"]


@pytest.mark.parametrize("start,months,expected", [
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2024, 1, 10), 24, date(2026, 1, 10)),
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
])
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert add_months(start, months) == expected


def test_review_dates_must_be_dates_and_not_in_the_future(tmp_path):
    write(tmp_path, {
        "courses/c/course.md": GOOD_COURSE.replace("review_every: null", "review_every: 12"),
        "courses/c/intro.md": GOOD_LESSON.replace("reviewed: 2026-11-20", "reviewed: 2027-01-05"),
        "courses/d/course.md": GOOD_COURSE,
        "courses/d/intro.md": GOOD_LESSON.replace("reviewed: 2026-11-20",
                                                  "reviewed: last week\nreview_every: 0"),
        "courses/e/course.md": GOOD_COURSE,  # review_every: null: no periodic review
        "courses/e/intro.md": GOOD_LESSON.replace("2026-11-20", "2001-01-01"),
    })
    found = [str(p) for p in load_catalogue(tmp_path / "courses", today=date(2026, 12, 1)
                                            ).problems]
    assert found == [
        "courses/c/intro.md:5: warning: reviewed date 2027-01-05 is in the future",
        "courses/d/intro.md:5: 'reviewed' must be a date written YYYY-MM-DD, not 'last week'",
        "courses/d/intro.md:6: 'review_every' must be at least 1",
    ]


@pytest.fixture
def content_dirs():
    return ITEMWRITING / "courses", ITEMWRITING / "quizzes"


def test_author_page_lists_lessons_to_review(client, make_user, login_as):
    login_as(make_user("trainer"))
    html = client.get("/author/").get_data(as_text=True)
    section = html[html.index('id="review"'):html.index('id="courses"')]
    stale = section[section.index("courses/iw/stale.md"):]
    assert "<td>2024-01-10</td>" in stale and "<td>2026-01-10</td>" in stale
    assert "<strong>past due</strong>" in stale.split("</tr>")[0]
    undated = section[section.index("courses/iw/undated.md"):].split("</tr>")[0]
    assert "<td>never</td>" in undated and "no review date" in undated
    assert 'href="/author/preview/iw/stale/"' in section
