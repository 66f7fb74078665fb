"""Taking an assessment: start page, attempt page, autosave, submit and result."""

from __future__ import annotations

import time

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from learning.access import login_required
from learning.assessments import service
from learning.assessments.feedback import topic_feedback
from learning.assessments.review import numbered
from learning.assessments.service import AttemptRefused, DeadlinePassed
from learning.assessments.taker import attempt_state
from learning.catalogue.pages import reader_jurisdiction
from learning.catalogue.service import find_course
from learning.certificates.service import certificate_for_attempt
from learning.core.inputs import ascii_int, wants_json
from learning.progress.service import completed_lessons, course_progress
from learning.timeutil import utcnow

bp = Blueprint("assessments", __name__, url_prefix="/courses/<course_slug>/assessments")


def _context(course_slug: str, slug: str) -> service.AssessmentContext:
    return service.find_assessment(course_slug, slug, str(get_locale())) or abort(404)


def _attempt(course_slug: str, slug: str, attempt_id: int):
    attempt = service.own_attempt(attempt_id, current_user.id, course_slug, slug)
    if attempt is None:  # someone else's attempt is indistinguishable from no attempt
        abort(404)
    return attempt


def _attempt_state(course_slug: str, slug: str, attempt_id: int):
    """``_attempt`` for a save or a submit: the row they need, not an object (most often
    read with the user already)."""
    attempt = attempt_state(attempt_id, current_user.id, course_slug, slug)
    if attempt is None:
        abort(404)
    return attempt


def _urls(course_slug: str, slug: str, attempt_id: int) -> dict[str, str]:
    args = dict(course_slug=course_slug, slug=slug, attempt_id=attempt_id)
    return {name: url_for(f".{name}", **args)
            for name in ("attempt", "save", "submit", "result", "review")}


@bp.get("/<slug>/")
@login_required
def start_page(course_slug: str, slug: str):
    """What the assessment is, the officer's attempts so far, and whether they may start."""
    context = _context(course_slug, slug)
    attempts = service.attempts_of(current_user.id, context.course_id, slug)
    for attempt in attempts:
        service.finalise_if_expired(attempt)
    status = service.start_status(context.assessment, attempts, utcnow())
    return render_template("assessments/start.html", context=context, attempts=attempts,
                           status=status, assessment=context.assessment)


@bp.post("/<slug>/")
@login_required
def start(course_slug: str, slug: str):
    """Start an attempt (or continue the open one) and go to it."""
    context = _context(course_slug, slug)
    try:
        attempt = service.start_attempt(current_user.id, context,
                                        jurisdiction=reader_jurisdiction(current_user),
                                        language=str(get_locale()))
    except AttemptRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for(".start_page", course_slug=course_slug, slug=slug))
    return redirect(url_for(".attempt", course_slug=course_slug, slug=slug,
                            attempt_id=attempt.id))


@bp.get("/<slug>/attempts/<int:attempt_id>/")
@login_required
def attempt(course_slug: str, slug: str, attempt_id: int):
    """The questions with the answers saved so far; never the correct answers."""
    context = _context(course_slug, slug)
    attempt = service.finalise_if_expired(_attempt(course_slug, slug, attempt_id))
    if not attempt.is_open:
        return redirect(url_for(".result", course_slug=course_slug, slug=slug,
                                attempt_id=attempt_id))
    questions = service.attempt_questions(attempt)
    views = {q.id: q.handler.view(q, service.question_rng(attempt, q.id))
             for question in questions for q in (question, *question.parts)}
    seconds_left = (int((attempt.deadline - utcnow()).total_seconds())
                    if attempt.deadline else None)
    saved = attempt.saved_values()
    return render_template(
        "assessments/attempt.html", context=context, attempt=attempt, questions=questions,
        views=views, saved=saved, urls=_urls(course_slug, slug, attempt_id),
        sequence=int(time.time() * 1000), seconds_left=seconds_left,
        navigator=numbered(questions, saved))


def _read_answers(attempt):
    """Answers of the questions the form names in ``included``; 400 on unknown or bad input.

    A question not named is left as saved, so an empty or partial request (a retried
    submit, an autosave of one question) never clears other answers.
    """
    questions = service.attempt_questions(attempt)
    known = {part.id for q in questions for part in q.gradable()}
    included = set(request.form.getlist("included"))
    if not included <= known:
        abort(400, description=_("The form names a question that is not in this attempt."))
    values, errors = service.parse_answers(questions, request.form, included)
    sequence = ascii_int(request.form.get("sequence"), maximum=10**18 - 1)
    if sequence is None:
        abort(400, description=_("The form is missing its save sequence; reload the page."))
    return values, errors, sequence


@bp.post("/<slug>/attempts/<int:attempt_id>/save")
@login_required
def save(course_slug: str, slug: str, attempt_id: int):
    """Autosave (JSON, from the script) or the save button (a redirect, without JavaScript)."""
    return _save(course_slug, slug, attempt_id, then=".attempt")


@bp.post("/<slug>/attempts/<int:attempt_id>/review")
@login_required
def review_save(course_slug: str, slug: str, attempt_id: int):
    """"Review and submit": save the form like the save button, then show what is unanswered."""
    return _save(course_slug, slug, attempt_id, then=".review")


@bp.get("/<slug>/attempts/<int:attempt_id>/review")
@login_required
def review(course_slug: str, slug: str, attempt_id: int):
    """Confirm before grading: answered count and links back to unanswered questions."""
    context = _context(course_slug, slug)
    attempt = service.finalise_if_expired(_attempt(course_slug, slug, attempt_id))
    if not attempt.is_open:
        return redirect(url_for(".result", course_slug=course_slug, slug=slug,
                                attempt_id=attempt_id))
    questions = numbered(service.attempt_questions(attempt), attempt.saved_values())
    return render_template(
        "assessments/review.html", context=context, attempt=attempt, questions=questions,
        unanswered=[q for q in questions if not q.answered],
        urls=_urls(course_slug, slug, attempt_id), sequence=int(time.time() * 1000))


def _save(course_slug: str, slug: str, attempt_id: int, then: str):
    attempt = _attempt_state(course_slug, slug, attempt_id)
    values, errors, sequence = _read_answers(attempt)
    if errors:
        if wants_json():
            return jsonify(error="invalid", questions=errors), 400
        for message in errors.values():
            flash(message, "error")
        return redirect(url_for(".attempt", course_slug=course_slug, slug=slug,
                                attempt_id=attempt_id)), 303
    try:
        result = service.save_answers(attempt.id, values, sequence, seen=attempt)
    except AttemptRefused as exc:
        if wants_json():
            status = 409 if not isinstance(exc, DeadlinePassed) else 410
            return jsonify(error=str(exc), result_url=_urls(course_slug, slug,
                                                            attempt_id)["result"]), status
        flash(str(exc), "error")
        return redirect(url_for(".result", course_slug=course_slug, slug=slug,
                                attempt_id=attempt_id), 303)
    if wants_json():
        return jsonify(saved=list(result.saved), stale=list(result.stale))
    flash(_("Your answers are saved."), "success")
    return redirect(url_for(then, course_slug=course_slug, slug=slug, attempt_id=attempt_id), 303)


@bp.post("/<slug>/attempts/<int:attempt_id>/submit")
@login_required
def submit(course_slug: str, slug: str, attempt_id: int):
    """Save what the form holds (if still in time), then grade once; repeats change nothing."""
    attempt = _attempt_state(course_slug, slug, attempt_id)
    if attempt.status == service.OPEN:
        values, errors, sequence = _read_answers(attempt)
        if errors:
            for message in errors.values():
                flash(message, "error")
            return redirect(url_for(".attempt", course_slug=course_slug, slug=slug,
                                    attempt_id=attempt_id), 303)
        closed_by = service.close_attempt(attempt.id, values=values, sequence=sequence,
                                          seen=attempt)
        if closed_by == "deadline":
            flash(_("The time for this attempt is up. It was graded on the answers saved "
                    "before the deadline."), "error")
    return redirect(url_for(".result", course_slug=course_slug, slug=slug,
                            attempt_id=attempt_id), 303)


@bp.get("/<slug>/attempts/<int:attempt_id>/result")
@login_required
def result(course_slug: str, slug: str, attempt_id: int):
    """Score and pass or fail; answers and feedback only as the review policy allows."""
    context = _context(course_slug, slug)
    attempt = service.finalise_if_expired(_attempt(course_slug, slug, attempt_id))
    if attempt.is_open:
        return redirect(url_for(".attempt", course_slug=course_slug, slug=slug,
                                attempt_id=attempt_id))
    attempts = service.attempts_of(current_user.id, context.course_id, slug)
    status = service.start_status(context.assessment, attempts, utcnow())
    questions = service.attempt_questions(attempt)
    certificate = (certificate_for_attempt(attempt.id) if attempt.final and attempt.passed
                   else None)
    lessons_left = 0
    if attempt.final and attempt.passed and certificate is None:
        found = find_course(course_slug)
        if found is not None:
            progress = course_progress(found[1], completed_lessons(current_user.id,
                                                                   context.course_id))
            lessons_left = progress.total - progress.done
    return render_template(
        "assessments/result.html", context=context, attempt=attempt, status=status,
        certificate=certificate, lessons_left=lessons_left,
        questions=questions, saved=attempt.saved_values(),
        show_answers=service.shows_answers(context.assessment, attempt, status.attempts_left),
        weak_topics=topic_feedback(attempt, context.version_id))
