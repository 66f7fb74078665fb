"""Topic feedback: after a failed attempt, which topics were weak and which lessons teach them.

An assessment's ``topics:`` maps a question tag to a title and lesson slugs.
The feedback names topics only, never a question, an answer or its correctness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from learning.content.problems import Problem
from learning.content.questions import Question
from learning.content.quiz import Assessment, QuizSet, Topic


def check_topics(quizzes: QuizSet, lesson_slugs: set[str]) -> list[Problem]:
    """Every topic names lessons of the course and a tag some question carries."""
    problems = []
    tags = {tag for q in quizzes.questions for part in (q, *q.parts) for tag in part.tags}
    for assessment in quizzes.assessments:
        for topic in assessment.topics:
            if topic.tag not in tags:
                problems.append(Problem(assessment.path, topic.line, f"topic '{topic.tag}' is "
                                        "not a tag of any question in the banks"))
            for slug in topic.lessons:
                if slug not in lesson_slugs:
                    problems.append(Problem(assessment.path, topic.line, f"topic '{topic.tag}' "
                                            f"names lesson '{slug}', which the course does not "
                                            "have"))
    return problems


def weak_topics(assessment: Assessment, questions: Iterable[Question],
                earned: Mapping[str, float], pass_mark: float) -> list[Topic]:
    """Topics of the drawn questions where the officer's share of points is below the mark."""
    weak = []
    for topic in assessment.topics:
        points = scored = 0.0
        for question in questions:
            for part in question.gradable():
                if topic.tag in part.tags or topic.tag in question.tags:
                    points += part.points
                    scored += earned.get(part.id, 0.0)
        if points and 100 * scored / points + 1e-9 < pass_mark:
            weak.append(topic)
    return weak
