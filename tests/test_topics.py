"""Topic feedback: a failed attempt names weak topics and their lessons, never an answer."""

from __future__ import annotations

import pytest

from learning.content import load_catalogue
from learning.content.topics import weak_topics
from tests.conftest import FIXTURE_CONTENT
from tests.test_assessments import SECRETS, attempt_row, correct_form, start
from tests.test_content_loader import GOOD_COURSE, GOOD_LESSON, write

BANK = """questions:
  - id: q-one
    kind: true_false
    tags: [topic/one]
    prompt: A statement.
    answer: true
    explanation: x
    sources: ["S"]
"""
FINAL = """assessment:
  title: Final
  final: true
  draw:
    - {tag: topic/one, count: 1}
  topics:
    topic/one:
      title: Topic one
      lessons: [intro, missing-lesson]
    topic/none:
      title: No such tag
      lessons: [intro]
    Bad Tag:
      title: x
      lessons: [intro]
    topic/two: just a title
"""


def test_topics_must_name_real_lessons_and_tags(tmp_path):
    write(tmp_path, {"courses/c/course.md": GOOD_COURSE, "courses/c/intro.md": GOOD_LESSON,
                     "quizzes/c/bank.yaml": BANK, "quizzes/c/final.yaml": FINAL})
    found = [str(p) for p in load_catalogue(tmp_path / "courses", tmp_path / "quizzes").problems]
    assert found == [
        "quizzes/c/final.yaml:13: topic 'Bad Tag' must be a question tag such as "
        "'topic/subtopic'",
        "quizzes/c/final.yaml:16: topic 'topic/two' must be a mapping with 'title' and 'lessons'",
    ]
    write(tmp_path, {"quizzes/c/final.yaml": FINAL.split("    Bad Tag:")[0]})
    found = [str(p) for p in load_catalogue(tmp_path / "courses", tmp_path / "quizzes").problems]
    assert found == [
        "quizzes/c/final.yaml:7: topic 'topic/one' names lesson 'missing-lesson', which the "
        "course does not have",
        "quizzes/c/final.yaml:10: topic 'topic/none' is not a tag of any question in the banks",
    ]


def test_weak_topics_compare_each_topic_share_with_the_pass_mark():
    quizzes = load_catalogue(FIXTURE_CONTENT / "courses", FIXTURE_CONTENT / "quizzes"
                             ).courses[0].quizzes
    final, by_id = quizzes.assessment("final"), quizzes.by_id()
    drawn = [by_id[q] for q in ("elements", "smuggling-ends", "protocol-city", "peace")]
    # definition: elements 2 points + smuggling-ends 1 point; legal: protocol-city.
    weak = weak_topics(final, drawn, {"elements": 2, "smuggling-ends": 0.4}, 80)
    assert [t.tag for t in weak] == ["basics/legal"]  # definition 2.4 / 3 = 80%: not weak
    weak = weak_topics(final, drawn, {"elements": 2, "protocol-city": 1}, 80)
    assert [t.tag for t in weak] == ["basics/definition"]  # 2 / 3
    assert weak_topics(final, drawn[2:3], {}, 0) == []  # 0% is not below a pass mark of 0


@pytest.fixture
def officer(make_user, login_as, synced):
    user = make_user("officer")
    login_as(user)
    return user


def test_failed_final_lists_weak_topics_with_lesson_links_and_no_answers(client, officer):
    attempt_id, location = start(client)
    form = correct_form(attempt_row(attempt_id))
    for qid in ("protocol-city", "recovery-days", "peace"):  # legal, protection, interviewing
        form["included"].remove(qid)
        form = {k: v for k, v in form.items() if not k.startswith(f"q-{qid}")}
    client.post(location + "submit", data=form)
    attempt = attempt_row(attempt_id)
    assert attempt.status == "submitted" and not attempt.passed and attempt.percent == 70

    html = client.get(location + "result").get_data(as_text=True)
    assert "Topics to revise" in html
    assert ('<strong>The legal instruments</strong>: '
            '<a href="/courses/field-basics/hard-topics/">Hard topics</a>, '
            '<a href="/courses/field-basics/wrap-up/">Wrap-up</a>') in html
    assert "What trafficking is" not in html  # every definition question was right
    for secret in SECRETS + ["Why:", "Your choice:", "review-right", "review-wrong"]:
        assert secret not in html


def test_passed_final_lists_no_topics(client, officer):
    attempt_id, location = start(client)
    client.post(location + "submit", data=correct_form(attempt_row(attempt_id)))
    assert attempt_row(attempt_id).passed
    html = client.get(location + "result").get_data(as_text=True)
    assert "Topics to revise" not in html and "The legal instruments" not in html
