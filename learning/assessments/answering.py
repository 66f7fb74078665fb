"""Answering an attempt: reading it back for its officer, saving answers, submitting.

Writes to an attempt use compare-and-set on ``Attempt.revision`` (read, compute,
``UPDATE ... WHERE revision = :seen``), which behaves the same on SQLite and
PostgreSQL: two tabs, a double click or a retried request can never produce two
graded attempts or let an older save replace a newer answer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from learning.assessments.models import OPEN, SUBMITTED, Attempt
from learning.catalogue.models import Course
from learning.catalogue.pages import quiz_set
from learning.catalogue.translated import translated_questions
from learning.content.questions import AnswerError, Question, grade_attempt
from learning.extensions import db
from learning.ops.dbconnections import DriverStatement
from learning.signals import progress_changed
from learning.timeutil import utcnow

DEADLINE_GRACE = timedelta(seconds=5)  # network latency, not extra time: saves sent in time
CAS_RETRIES = 20


class AttemptRefused(Exception):
    """A request about an attempt that cannot be carried out; the message is for the officer."""


class DeadlinePassed(AttemptRefused):
    """The attempt's time is up; it has been graded on what was saved."""


@dataclass(frozen=True)
class SaveResult:
    """What a save did: questions saved, and questions whose save was older than the stored one."""

    saved: tuple[str, ...]
    stale: tuple[str, ...]
    revision: int


_OWN_ATTEMPT = (
    sa.select(Attempt).join(Course, Course.id == Attempt.course_id)
    .where(Attempt.id == sa.bindparam("attempt_id"), Attempt.user_id == sa.bindparam("user_id"),
           Course.slug == sa.bindparam("course_slug"),
           Attempt.assessment_slug == sa.bindparam("assessment_slug")))
_SAVE_STATE = sa.select(Attempt.status, Attempt.deadline, Attempt.answers, Attempt.revision
                        ).where(Attempt.id == sa.bindparam("attempt_id"))
_SUBMIT_COLUMNS = ("status", "answers", "revision", "deadline", "version_id", "question_ids",
                   "pass_mark", "user_id", "course_id", "final")
_SUBMIT_STATE = sa.select(*(getattr(Attempt, name) for name in _SUBMIT_COLUMNS)
                          ).where(Attempt.id == sa.bindparam("attempt_id"))
# _OWN_ATTEMPT's check, reading only what a save or submit needs: the submit's columns,
# the id, and what attempt_questions needs.
OWN_ATTEMPT_STATE = _OWN_ATTEMPT.with_only_columns(
    Attempt.id, Attempt.language, *(getattr(Attempt, name) for name in _SUBMIT_COLUMNS))
_attempts = Attempt.__table__
_STORE_ANSWERS = (
    _attempts.update()
    .where(_attempts.c.id == sa.bindparam("attempt_id"),
           _attempts.c.revision == sa.bindparam("seen"), _attempts.c.status == OPEN)
    .values(answers=sa.bindparam("answers", type_=_attempts.c.answers.type),
            revision=sa.bindparam("next_revision")))
_GRADE = (  # a Core update: the ORM's would also look for the attempt among loaded objects
    _attempts.update()
    .where(_attempts.c.id == sa.bindparam("attempt_id"),
           _attempts.c.revision == sa.bindparam("seen"), _attempts.c.status == OPEN)
    .values(status=SUBMITTED, revision=sa.bindparam("next_revision"),
            submitted_at=sa.bindparam("now"), submitted_by=sa.bindparam("by"),
            answers=sa.bindparam("answers", type_=_attempts.c.answers.type),
            score=sa.bindparam("score"), max_score=sa.bindparam("max_score"),
            percent=sa.bindparam("percent"), passed=sa.bindparam("passed"),
            results=sa.bindparam("results", type_=_attempts.c.results.type)))


def own_attempt(attempt_id: int, user_id: int, course_slug: str,
                assessment_slug: str) -> Attempt | None:
    """The attempt if it belongs to this user and this assessment, else None."""
    return db.session.scalar(_OWN_ATTEMPT, {"attempt_id": attempt_id, "user_id": user_id,
                                            "course_slug": course_slug,
                                            "assessment_slug": assessment_slug})


def own_attempt_state(attempt_id: int, user_id: int, course_slug: str,
                      assessment_slug: str) -> tuple | None:
    """``own_attempt`` for a save or a submit: a row of the columns they use (``id``,
    ``status``, ``answers``, ``revision``, ``version_id``...), not an object, as they write
    with Core statements."""
    return _read(OWN_ATTEMPT_STATE, {"attempt_id": attempt_id, "user_id": user_id,
                                      "course_slug": course_slug,
                                      "assessment_slug": assessment_slug})


def session_idle() -> bool:
    """Whether a save's or submit's statements can each be sent alone on a pooled
    connection (``DriverStatement``): the session has nothing in progress, as in the
    save and submit requests, whose only earlier read (the user) is sent alone too.
    Otherwise they run in the session's transaction, which may hold writes of its own
    that a second connection would wait for (SQLite) or not see."""
    return not db.session().in_transaction()


def _read(statement: sa.Select, params: dict) -> tuple | None:
    if session_idle():
        return DriverStatement.of(statement).first(params)
    return db.session.connection().execute(statement, params).first()


def _write(statement: sa.Update, params: dict) -> int:
    """Run one compare-and-set UPDATE and commit it: 1 if it applied, 0 if the row had
    moved on."""
    if session_idle():
        return DriverStatement.of(statement).write(params)
    count = db.session.connection().execute(statement, params).rowcount
    db.session.commit()
    return count


def attempt_questions(attempt: Attempt | sa.Row) -> list[Question]:
    """The drawn questions of an attempt, in the attempt's order, from its own version.

    Shown in the attempt's language where a consistent translation exists (same ids,
    keys and answers: grading is the same in every language).
    """
    by_id = {q.id: q for q in quiz_set(attempt.version_id).questions}
    local = translated_questions(attempt.version_id, attempt.language)
    return [local.get(qid, by_id[qid]) for qid in attempt.question_ids]


def question_rng(attempt: Attempt, question_id: str) -> random.Random:
    """The same option order every time this attempt shows this question."""
    return random.Random(f"{attempt.seed}:{question_id}")


def _expired(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and now > deadline + DEADLINE_GRACE


def parse_answers(questions: list[Question], form: Mapping[str, Any],
                  only: set[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Read the answers to the questions in ``only`` from form fields.

    Returns (question id -> value, question id -> error message).
    """
    values, errors = {}, {}
    for question in questions:
        for part in question.gradable():
            if part.id not in only:
                continue
            try:
                values[part.id] = part.handler.parse_answer(part, form)
            except AnswerError as exc:
                errors[part.id] = str(exc)
    return values, errors


def merge_answers(stored: Mapping[str, Any] | None, values: Mapping[str, Any], sequence: int
                  ) -> tuple[dict[str, Any], list[str], list[str]]:
    """New answers over stored ones, except where the stored answer has a higher sequence.

    Returns (merged answers, question ids saved, question ids whose save was stale).
    """
    merged = dict(stored or {})
    saved, stale = [], []
    for qid, value in values.items():
        if qid in merged and merged[qid]["s"] >= sequence:
            stale.append(qid)
            continue
        merged[qid] = {"v": value, "s": sequence}
        saved.append(qid)
    return merged, saved, stale


def save_answers(attempt_id: int, values: Mapping[str, Any], sequence: int,
                 now: datetime | None = None, *, seen: Attempt | sa.Row | None = None
                 ) -> SaveResult:
    """Store answers unless a newer save (higher sequence) already stored that question.

    ``seen`` is the attempt as the caller just read it: the first try starts from it
    instead of reading again (the compare-and-set catches it if it is already stale).
    """
    now = now or utcnow()
    for _ in range(CAS_RETRIES):
        if seen is not None:
            status, deadline, answers, revision = (seen.status, seen.deadline, seen.answers,
                                                   seen.revision)
            seen = None
        else:
            status, deadline, answers, revision = _read(_SAVE_STATE,
                                                        {"attempt_id": attempt_id})
        if status != OPEN:
            raise AttemptRefused("This attempt has already been submitted.")
        if _expired(deadline, now):
            submit_attempt(attempt_id, now, by="deadline")
            raise DeadlinePassed("The time for this attempt is up. It was graded on the answers "
                                 "saved before the deadline.")
        merged, saved, stale = merge_answers(answers, values, sequence)
        if not saved:
            return SaveResult((), tuple(stale), revision)
        if _write(_STORE_ANSWERS, {"attempt_id": attempt_id, "seen": revision,
                                   "answers": merged, "next_revision": revision + 1}):
            return SaveResult(tuple(saved), tuple(stale), revision + 1)
    raise AttemptRefused("The attempt is busy; your answer was not saved. Please try again.")


def submit_attempt(attempt_id: int, now: datetime | None = None, by: str = "learner",
                   values: Mapping[str, Any] | None = None, sequence: int = 0, *,
                   seen: Attempt | None = None) -> Attempt:
    """Grade and close the attempt, exactly once however often it is called.

    ``values`` are the answers the submit form carries: in time, they are merged
    (newest sequence wins) and graded in the same write; after the deadline they
    are ignored and the attempt is graded on what was saved. ``seen`` is the attempt
    as the caller just read it: the first try starts from it instead of reading again.
    """
    close_attempt(attempt_id, now, by, values, sequence, seen=seen)
    # Whatever the session held of it is expired (by the commit, or it had no transaction
    # left), so this reads the graded row (once; a refresh after it would read it twice).
    return db.session.get(Attempt, attempt_id)


def close_attempt(attempt_id: int, now: datetime | None = None, by: str = "learner",
                  values: Mapping[str, Any] | None = None, sequence: int = 0, *,
                  seen: Attempt | sa.Row | None = None) -> str | None:
    """``submit_attempt`` without reading the graded row back: how this call closed the
    attempt ("learner" or "deadline"), or None if it was closed already."""
    now = now or utcnow()
    closed_by = None
    for _ in range(CAS_RETRIES):
        row = [getattr(seen, name) for name in _SUBMIT_COLUMNS] if seen is not None else \
            _read(_SUBMIT_STATE, {"attempt_id": attempt_id})
        seen = None
        (status, answers, revision, deadline, version_id, question_ids, pass_mark, user_id,
         course_id, final) = row
        if status == SUBMITTED:
            break
        by_id = {q.id: q for q in quiz_set(version_id).questions}
        questions = [by_id[qid] for qid in question_ids]
        if _expired(deadline, now):
            by = "deadline"
        elif values:
            answers = merge_answers(answers, values, sequence)[0]
        grade = grade_attempt(questions, {qid: e["v"] for qid, e in (answers or {}).items()})
        passed = grade.passed(pass_mark)
        applied = _write(_GRADE, {
            "attempt_id": attempt_id, "seen": revision, "next_revision": revision + 1,
            "now": now, "by": by, "answers": answers, "score": grade.score,
            "max_score": grade.max_score, "percent": grade.percent, "passed": passed,
            "results": {item.question_id: item.earned for item in grade.items}})
        if applied:
            closed_by = by
            if passed and final:  # only a passed final assessment can complete a course
                progress_changed.send("assessments", user_id=user_id, course_id=course_id)
            break
    else:
        raise AttemptRefused("The attempt is busy; please submit again.")
    return closed_by


def finalise_if_expired(attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Grade an open attempt whose deadline has passed, on what was saved."""
    now = now or utcnow()
    if attempt.status == OPEN and _expired(attempt.deadline, now):
        return submit_attempt(attempt.id, now, by="deadline")
    return attempt
