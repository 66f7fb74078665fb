"""The signed-in officer and the attempt their save or submit is about, in one statement.

Every signed-in request reads its user first (the user loader); a save or a submit then
reads the attempt. Read together they are one statement, and on PostgreSQL one round
trip instead of two. The user loader calls ``signed_in_taker`` for those requests and
leaves the attempt's row for the view, which takes it with ``attempt_state``.
"""

from __future__ import annotations

import collections

import sqlalchemy as sa
from flask import g

from learning.accounts.models import User
from learning.accounts.signed_in import USER_AND_AGENCY, signed_in_user, user_from_row
from learning.assessments.answering import OWN_ATTEMPT_STATE, own_attempt_state, session_idle
from learning.assessments.models import Attempt
from learning.catalogue.models import Course
from learning.content.schema import is_slug
from learning.ops.dbconnections import DriverStatement

ENDPOINTS = frozenset({"assessments.save", "assessments.review_save", "assessments.submit"})

_STATE_COLUMNS = tuple(OWN_ATTEMPT_STATE.selected_columns)
AttemptState = collections.namedtuple("AttemptState", [column.key for column in _STATE_COLUMNS])
_attempts, _course, _users = Attempt.__table__, Course.__table__, User.__table__
# The user and agency, then the attempt's columns: empty unless the attempt is this user's,
# of this course and this assessment (the same checks as own_attempt_state).
_USER_AND_ATTEMPT = (
    USER_AND_AGENCY.add_columns(*_STATE_COLUMNS)
    .outerjoin(_course, _course.c.slug == sa.bindparam("course_slug"))
    .outerjoin(_attempts, sa.and_(_attempts.c.id == sa.bindparam("attempt_id"),
                                  _attempts.c.user_id == _users.c.id,
                                  _attempts.c.course_id == _course.c.id,
                                  _attempts.c.assessment_slug == sa.bindparam("assessment_slug"))))
_KEPT = "taken_attempt"


def signed_in_taker(user_id: int, generation: int, view_args: dict) -> User | None:
    """``signed_in_user``, reading the attempt of a save or submit address (``view_args``)
    in the same statement and keeping it for ``attempt_state``.

    It may run for any address the route matched, an error page's included (a NUL byte
    refused with 400): slugs no course or assessment could have are not sent.
    """
    course_slug, assessment_slug = view_args["course_slug"], view_args["slug"]
    if not (is_slug(course_slug, _course.c.slug.type.length)
            and is_slug(assessment_slug, _attempts.c.assessment_slug.type.length)):
        return signed_in_user(user_id, generation)
    attempt_id = view_args["attempt_id"]
    row = DriverStatement.of(_USER_AND_ATTEMPT).first({
        "id": user_id, "attempt_id": attempt_id, "course_slug": course_slug,
        "assessment_slug": assessment_slug})
    user = user_from_row(row, generation)
    if user is not None:
        state = row[-len(_STATE_COLUMNS):]
        setattr(g, _KEPT, ((user_id, attempt_id, course_slug, assessment_slug),
                           AttemptState._make(state) if state[0] is not None else None))
    return user


def attempt_state(attempt_id: int, user_id: int, course_slug: str,
                  assessment_slug: str) -> tuple | None:
    """``own_attempt_state``, from the row ``signed_in_taker`` read with the user when it
    was read for this very attempt and the session has nothing in progress (else read
    now, in the session's transaction if it has one)."""
    kept = g.pop(_KEPT, None)
    if kept is not None and kept[0] == (user_id, attempt_id, course_slug, assessment_slug) \
            and session_idle():
        return kept[1]
    return own_attempt_state(attempt_id, user_id, course_slug, assessment_slug)
