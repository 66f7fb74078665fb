"""``/author/``: catalogue health and lesson previews for trainers."""

from datetime import date
from pathlib import Path

from flask import abort, current_app, render_template, request
from flask_babel import get_locale

from learning.access import role_required
from learning.assessments.stats import course_item_stats, final_summaries
from learning.author import editor_views, member_views, review_views  # noqa: F401 (routes)
from learning.author.blueprint import bp
from learning.author.service import catalogue_health, lessons_due_for_review, preview_lesson
from learning.catalogue.service import find_course, published_courses
from learning.content.jurisdictions import KNOWN
from learning.content.jurisdictions import choices as jurisdiction_choices

__all__ = ["bp"]


def _health():
    return catalogue_health(Path(current_app.config["COURSES_DIR"]),
                            Path(current_app.config["QUIZZES_DIR"]))


@bp.get("/")
@role_required("trainer")
def index():
    """Every problem ``content check`` would report, and what is published."""
    health = _health()
    published = {course.slug: version for course, version in published_courses()}
    return render_template("author/index.html", health=health, published=published,
                           due=lessons_due_for_review(health, date.today()))


@bp.get("/preview/<course_slug>/<lesson_slug>/")
@role_required("trainer")
def preview(course_slug: str, lesson_slug: str):
    """A lesson from the files, rendered as officers will see it once published."""
    jurisdiction = request.args.get("jurisdiction", "")[:8] or None
    if jurisdiction is not None and jurisdiction not in KNOWN:
        abort(400)
    preview = preview_lesson(_health(), course_slug, lesson_slug, jurisdiction) or abort(404)
    return render_template("author/preview.html", preview=preview, jurisdiction=jurisdiction,
                           places=jurisdiction_choices(str(get_locale())))


@bp.get("/courses/<course_slug>/items/")
@role_required("trainer")
def item_statistics(course_slug: str):
    """Per question: attempts, facility, discrimination and how often each option was chosen."""
    course, version = find_course(course_slug) or abort(404)
    stats = course_item_stats(course.id, version.id)
    return render_template("author/items.html", course=course, version=version, stats=stats,
                           finals=final_summaries(course.id, version.id, stats))
