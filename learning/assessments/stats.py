"""Item statistics for trainers: which questions work, and which need fixing.

Facility is the mean share of points earned. Discrimination is the
upper-minus-lower index: the item's facility among the top 27% of attempts (by
total score) minus its facility among the bottom 27%. Distractor counts show
how often each option of a choice question was picked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from learning.assessments.models import SUBMITTED, Attempt
from learning.catalogue.pages import quiz_set
from learning.content.questions import Question
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
