"""The catalogue, a course's overview and its lessons."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from learning.access import login_required
from learning.catalogue.forms import MarkCompleteForm
from learning.catalogue.pages import LessonPage, cached_fragment, lesson_page, quiz_set
from learning.catalogue.service import change_notes, find_course, media_asset, published_courses
from learning.catalogue.translated import LessonText, lesson_text
from learning.certificates.service import valid_certificates
from learning.progress.service import (
    completed_by_course,
    completed_lessons,
    course_progress,
    mark_lesson_complete,
    next_lesson_slug,
    progress_against,
)
from learning.timeutil import utcnow

bp = Blueprint("catalogue", __name__)

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
               "gif": "image/gif", "webp": "image/webp"}


@bp.get("/courses/")
@login_required
def index():
    """Every published course with the signed-in user's progress and certificate in it."""
    done = completed_by_course(current_user.id)
    entries = [
        (course, version, course_progress(version, done.get(course.id, {})))
        for course, version in published_courses()
    ]
    return render_template("catalogue/index.html", entries=entries,
                           certificates=valid_certificates(current_user.id, utcnow().date()))


@bp.get("/courses/<course_slug>/")
@login_required
def course(course_slug: str):
    """A course's overview: objectives, modules, lessons, and where to continue."""
    found = find_course(course_slug) or abort(404)
    course, version = found
    progress = course_progress(version, completed_lessons(current_user.id, course.id))
    assessments = sorted(quiz_set(version.id).assessments, key=lambda a: (not a.final, a.title))
    return render_template(
        "catalogue/course.html", course=course, version=version, completed=progress.completed,
        progress=progress, assessments=assessments, next_slug=next_lesson_slug(version, progress),
        notes=change_notes(version.id, progress.changed),
    )


def _render_lesson(page: LessonPage, form: MarkCompleteForm, status: int = 200):
    progress = progress_against(page.lesson_hashes,
                                completed_lessons(current_user.id, page.course_id))
    lesson = page.lesson
    text = lesson_text(lesson, page.language, str(get_locale()),
                       original=request.args.get("original") == "1")
    article = cached_fragment(
        ("article", lesson.id, str(get_locale()), text.language),
        lambda: render_template("catalogue/lesson_body.html", **_article_context(page, text)))
    return render_template(
        "catalogue/lesson.html", page=page, lesson=lesson, form=form, article=Markup(article),
        completed=progress.completed, progress=progress, text=text,
    ), status


def _article_context(page: LessonPage, text: LessonText) -> dict:
    lesson = page.lesson
    check_url = (url_for("assessments.start_page", course_slug=page.course_slug,
                         slug=lesson.check_slug) if lesson.check_slug else None)
    # Sources follow the lesson's actions on the page (readers end the lesson before them).
    return dict(content_warning=text.content_warning, objectives=text.objectives,
                toc_html=text.toc_html, html=text.html, sources_html=None,
                check_url=check_url)


@bp.get("/courses/<course_slug>/<lesson_slug>/")
@login_required
def lesson(course_slug: str, lesson_slug: str):
    """One lesson of the current version, with its place in the course."""
    page = lesson_page(course_slug, lesson_slug) or abort(404)
    return _render_lesson(page, MarkCompleteForm())


@bp.post("/courses/<course_slug>/<lesson_slug>/")
@login_required
def complete_lesson(course_slug: str, lesson_slug: str):
    """Mark the lesson complete for the signed-in user, then go on to the next one."""
    page = lesson_page(course_slug, lesson_slug) or abort(404)
    form = MarkCompleteForm()
    if not form.validate_on_submit():
        flash(_("Your session expired. Please press the button again."), "error")
        return _render_lesson(page, form, status=400)
    mark_lesson_complete(current_user.id, page.course_id, page.lesson)
    flash(_("Lesson marked as complete."), "success")
    if page.following:
        return redirect(url_for(".lesson", course_slug=course_slug,
                                lesson_slug=page.following["slug"]))
    return redirect(url_for(".course", course_slug=course_slug))


@bp.get("/media/<sha256>.<extension>")
@login_required
def media(sha256: str, extension: str):
    """An image from a lesson; its name is its hash, so it can be cached forever."""
    asset = media_asset(sha256)
    if asset is None or asset.extension != extension or extension not in MEDIA_TYPES:
        abort(404)
    response = Response(asset.data, mimetype=MEDIA_TYPES[extension])
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
