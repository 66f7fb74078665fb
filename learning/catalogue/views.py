"""The catalogue, a course's overview and its lessons."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from learning.access import login_required
from learning.catalogue.course_text import course_text
from learning.catalogue.forms import MarkCompleteForm
from learning.catalogue.lesson_fill import Builders, Reader, lesson_bytes, lesson_pieces
from learning.catalogue.pages import (
    LessonPage,
    PageCaches,
    lesson_page,
    quiz_set,
    reader_jurisdiction,
    version_lesson_page,
)
from learning.catalogue.service import change_notes, find_course, media_asset, published_courses
from learning.catalogue.shell import Shell, shell_context, slot
from learning.catalogue.translated import (
    LessonText,
    title_in,
    translated_assessment,
)
from learning.certificates.service import valid_certificates
from learning.core.csrf import csrf_token
from learning.core.localtime import viewer_today
from learning.progress.service import (
    completed_by_course,
    completed_lessons,
    course_progress,
    mark_lesson_complete,
    next_lesson_slug,
    reader_state,
)

bp = Blueprint("catalogue", __name__)

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
               "gif": "image/gif", "webp": "image/webp"}


@bp.app_template_filter("course_title")
def course_title_filter(version) -> str:
    """A version's course title in the reader's language, where the course translates it."""
    return title_in(version.translations, version.title, str(get_locale()))


@bp.get("/courses/")
@login_required
def index():
    """Every published course with the signed-in user's progress and certificate in it."""
    done = completed_by_course(current_user.id)
    locale = str(get_locale())
    entries = [
        (course, version, course_progress(version, done.get(course.id, {})),
         course_text(version, locale))
        for course, version in published_courses()
    ]
    return render_template("catalogue/index.html", entries=entries,
                           certificates=valid_certificates(current_user.id, viewer_today()))


@bp.get("/courses/<course_slug>/")
@login_required
def course(course_slug: str):
    """A course's overview: objectives, modules, lessons, and where to continue."""
    found = find_course(course_slug) or abort(404)
    course, version = found
    progress = course_progress(version, completed_lessons(current_user.id, course.id))
    locale = str(get_locale())
    assessments = sorted((translated_assessment(version.id, a, locale)
                          for a in quiz_set(version.id).assessments),
                         key=lambda a: (not a.final, a.title))
    return render_template(
        "catalogue/course.html", course=course, version=version, completed=progress.completed,
        text=course_text(version, locale),
        progress=progress, assessments=assessments, next_slug=next_lesson_slug(version, progress),
        notes=change_notes(version.id, progress.changed),
    )


def _render_article(page: LessonPage, text: LessonText) -> bytes:
    return render_template("catalogue/lesson_body.html", **_article_context(page, text)).encode()


def _render_progress(progress) -> bytes:
    return render_template("partials/progress.html", progress=progress,
                           label=_("Your progress in this course")).encode()


def _render_shell(context: dict, role: str) -> Shell:
    return Shell.split(render_template("catalogue/lesson.html", article=slot("article"),
                                       progress_html=slot("progress"), **context,
                                       **shell_context(role)))


def _article_context(page: LessonPage, text: LessonText) -> dict:
    lesson = page.lesson
    check_url = (url_for("assessments.start_page", course_slug=page.course_slug,
                         slug=lesson.check_slug) if lesson.check_slug else None)
    # Sources follow the lesson's actions on the page (readers end the lesson before them).
    return dict(content_warning=text.content_warning, objectives=text.objectives,
                toc_html=text.toc_html, html=text.html, sources_html=None,
                check_url=check_url)


BUILDERS = Builders(article=_render_article, progress=_render_progress, shell=_render_shell)


def _render_lesson(page: LessonPage, completed: dict[str, str], status: int = 200):
    """The lesson page: the version's shell filled with this reader's values.

    With flashed messages waiting (after marking a lesson complete, or a refused form)
    the page is rendered whole, as those messages belong to this request alone.
    """
    user = current_user._get_current_object()  # read several times: one proxy lookup
    reader = Reader(user.role, user.display_name, reader_jurisdiction(user))
    locale = str(get_locale())
    original = request.args.get("original") == "1"
    caches = PageCaches.of()
    if "_flashes" in session:
        pieces = lesson_pieces(caches, page, completed, reader, locale, BUILDERS, original)
        return render_template("catalogue/lesson.html",
                               article=Markup(pieces.article.decode()),
                               progress_html=Markup(pieces.progress_html.decode()),
                               **pieces.context), status
    return lesson_bytes(caches, page, completed, reader, locale, csrf_token(),
                        request.script_root, BUILDERS, original), status


@bp.get("/courses/<course_slug>/<lesson_slug>/")
@login_required
def lesson(course_slug: str, lesson_slug: str):
    """One lesson of the current version, with its place in the course."""
    reader_id = current_user.id
    # Read with the signed-in user when this request loaded it (see create_app).
    prefetched = g.pop("reader_state", None)
    state = (prefetched[2] if prefetched and prefetched[:2] == (reader_id, course_slug)
             else reader_state(reader_id, course_slug)) or abort(404)
    page = version_lesson_page(state.course_id, course_slug, state.version_id,
                               lesson_slug) or abort(404)
    return _render_lesson(page, state.completed)


@bp.post("/courses/<course_slug>/<lesson_slug>/")
@login_required
def complete_lesson(course_slug: str, lesson_slug: str):
    """Mark the lesson complete for the signed-in user, then go on to the next one."""
    page = lesson_page(course_slug, lesson_slug) or abort(404)
    form = MarkCompleteForm()
    if not form.validate_on_submit():
        flash(_("Your session expired. Please press the button again."), "error")
        return _render_lesson(page, completed_lessons(current_user.id, page.course_id),
                              status=400)
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
