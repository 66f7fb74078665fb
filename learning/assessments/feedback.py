"""Topic feedback after a failed attempt: what to revise, never which answer was wrong."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from learning.assessments.models import SUBMITTED, Attempt
from learning.assessments.service import attempt_questions
from learning.catalogue.models import Lesson
from learning.catalogue.pages import quiz_set
from learning.catalogue.translated import translated_assessment
from learning.content.topics import weak_topics
from learning.extensions import db


@dataclass(frozen=True)
class WeakTopic:
    """A topic the officer scored below the pass mark on, and the lessons that teach it."""

    title: str
    lessons: tuple[tuple[str, str], ...]  # (slug, title) in the course's current version


def topic_feedback(attempt: Attempt, current_version_id: int) -> list[WeakTopic]:
    """Weak topics of a failed, submitted attempt (none for a pass or without ``topics:``)."""
    if attempt.status != SUBMITTED or attempt.passed:
        return []
    assessment = quiz_set(attempt.version_id).assessment(attempt.assessment_slug)
    if assessment is None or not assessment.topics:
        return []
    assessment = translated_assessment(attempt.version_id, assessment, attempt.language)
    weak = weak_topics(assessment, attempt_questions(attempt), attempt.results or {},
                       attempt.pass_mark)
    if not weak:
        return []
    titles = dict(db.session.execute(
        sa.select(Lesson.slug, Lesson.title).where(Lesson.version_id == current_version_id)).all())
    return [WeakTopic(topic.title, tuple((slug, titles[slug]) for slug in topic.lessons
                                         if slug in titles))
            for topic in weak]
