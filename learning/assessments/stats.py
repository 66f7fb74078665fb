"""Item statistics for trainers: which questions work, and which need fixing.

Facility is the mean share of points earned. Discrimination is the
upper-minus-lower index: the item's facility among the top 27% of attempts (by
total score) minus its facility among the bottom 27%. Distractor counts show
how often each option of a choice question was picked.

Per final assessment: reliability as Cronbach's alpha on each item's share of
its points (equal to KR-20 when items score 0 or 1), the distractors nobody
picked, and the score a test-wise officer who never read the course would
expect (``learning.content.testwise``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from learning.assessments.models import SUBMITTED, Attempt
from learning.catalogue.pages import quiz_set
from learning.content.questions import Question
from learning.content.quiz import Assessment, QuizSet
from learning.content.testwise import expected_testwise, pool
from learning.extensions import db

MIN_FOR_DISCRIMINATION = 10
GROUP_SHARE = 0.27


@dataclass(frozen=True)
class SubmittedAnswerSheet:
    """What statistics need from one submitted attempt."""

    percent: float
    earned: Mapping[str, float]
    answers: Mapping[str, Any]


@dataclass
class ItemStats:
    """One question's figures across every submitted attempt that drew it."""

    question: Question
    attempts: int = 0
    facility: float | None = None
    discrimination: float | None = None
    option_counts: dict[str, int] = field(default_factory=dict)

    @property
    def flags(self) -> list[str]:
        """Plain-language reasons a trainer may want to look at the question."""
        found = []
        if self.facility is not None and self.attempts >= MIN_FOR_DISCRIMINATION:
            if self.facility < 0.3:
                found.append("very hard")
            elif self.facility > 0.95:
                found.append("very easy")
        if self.discrimination is not None and self.discrimination < 0.2:
            found.append("does not separate strong from weak")
        for choice in self.question.spec.get("options", ()):
            if not choice.correct and self.attempts >= MIN_FOR_DISCRIMINATION \
                    and self.option_counts.get(choice.key, 0) == 0:
                found.append("a distractor nobody picks")
                break
        return found


def compute_item_stats(questions: Iterable[Question],
                       sheets: list[SubmittedAnswerSheet]) -> list[ItemStats]:
    """Facility, discrimination and option counts per gradable question (pure)."""
    results = []
    for question in questions:
        for part in question.gradable():
            drawn = [s for s in sheets if part.id in s.earned]
            stats = ItemStats(part, attempts=len(drawn))
            if drawn:
                shares = [s.earned[part.id] / part.points for s in drawn]
                stats.facility = sum(shares) / len(shares)
            if len(drawn) >= MIN_FOR_DISCRIMINATION:
                ranked = sorted(drawn, key=lambda s: s.percent)
                size = max(1, round(len(ranked) * GROUP_SHARE))
                low, high = ranked[:size], ranked[-size:]
                stats.discrimination = (
                    sum(s.earned[part.id] for s in high) / (size * part.points)
                    - sum(s.earned[part.id] for s in low) / (size * part.points))
            if part.kind in ("single", "multiple"):
                for sheet in drawn:
                    chosen = sheet.answers.get(part.id)
                    for key in ([chosen] if isinstance(chosen, str) else chosen or []):
                        stats.option_counts[key] = stats.option_counts.get(key, 0) + 1
            results.append(stats)
    return results


def course_item_stats(course_id: int, version_id: int) -> list[ItemStats]:
    """Statistics for the questions of a version, from every submitted attempt at the course."""
    rows = db.session.execute(
        sa.select(Attempt.percent, Attempt.results, Attempt.answers)
        .where(Attempt.course_id == course_id, Attempt.status == SUBMITTED))
    sheets = [SubmittedAnswerSheet(percent or 0.0, results or {},
                                   {qid: entry["v"] for qid, entry in (answers or {}).items()})
              for percent, results, answers in rows]
    return compute_item_stats(quiz_set(version_id).questions, sheets)


def cronbach_alpha(sheets: list[Mapping[str, float]]) -> float | None:
    """Cronbach's alpha over attempts, each mapping the items it drew to a 0-1 score (pure).

    alpha = k / (k - 1) x (1 - sum of item variances / variance of the totals). Attempts
    draw different items, so each item's variance is taken over the attempts that drew it,
    and the sum of item variances is averaged over the item sets the attempts drew; for a
    fixed form this is exactly the textbook formula. Population variances throughout.
    None when there are fewer than 2 attempts or items, or the totals do not vary.
    """
    sheets = [sheet for sheet in sheets if sheet]
    if len(sheets) < 2:
        return None
    by_item: dict[str, list[float]] = {}
    for sheet in sheets:
        for item, score in sheet.items():
            by_item.setdefault(item, []).append(score)
    variance = {item: _variance(scores) for item, scores in by_item.items()}
    k = sum(len(sheet) for sheet in sheets) / len(sheets)
    item_variance = sum(sum(variance[item] for item in sheet) for sheet in sheets) / len(sheets)
    total_variance = _variance([sum(sheet.values()) for sheet in sheets])
    if k < 2 or total_variance == 0:
        return None
    return k / (k - 1) * (1 - item_variance / total_variance)


def _variance(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


@dataclass(frozen=True)
class FinalSummary:
    """Figures for one final assessment across its submitted attempts."""

    assessment: Assessment
    attempts: int
    alpha: float | None
    testwise: float  # expected share of the points for a test-wise non-reader
    unused_distractors: tuple[tuple[str, str], ...]  # (question id, option text)


def summarise_final(quizzes: QuizSet, assessment: Assessment,
                    attempts: list[Mapping[str, float]], stats: list[ItemStats]
                    ) -> FinalSummary:
    """Reliability, unpicked distractors and the test-wise score of one final (pure).

    ``attempts`` map question id to points earned, one per submitted attempt at the final.
    """
    points = {part.id: part.points for q in quizzes.questions for part in q.gradable()}
    shares = [{qid: earned / points[qid] for qid, earned in sheet.items() if qid in points}
              for sheet in attempts]
    drawable = {part.id for q in pool(quizzes, assessment) for part in q.gradable()}
    unused = tuple(
        (item.question.id, choice.text) for item in stats
        if item.question.id in drawable and item.attempts >= MIN_FOR_DISCRIMINATION
        for choice in item.question.spec.get("options", ())
        if item.question.kind in ("single", "multiple") and not choice.correct
        and item.option_counts.get(choice.key, 0) == 0)
    return FinalSummary(assessment, len(attempts), cronbach_alpha(shares),
                        expected_testwise(pool(quizzes, assessment)), unused)


def final_summaries(course_id: int, version_id: int,
                    stats: list[ItemStats]) -> list[FinalSummary]:
    """A summary per final assessment of the version, from every submitted attempt at it."""
    quizzes = quiz_set(version_id)
    summaries = []
    for assessment in (a for a in quizzes.assessments if a.final):
        results = db.session.scalars(
            sa.select(Attempt.results).where(Attempt.course_id == course_id,
                                             Attempt.status == SUBMITTED,
                                             Attempt.assessment_slug == assessment.slug))
        summaries.append(summarise_final(quizzes, assessment,
                                         [r or {} for r in results], stats))
    return summaries
