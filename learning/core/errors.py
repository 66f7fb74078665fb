"""Error pages: one page for every HTTP error, in the site's layout; JSON under /api/."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import HTTPException, InternalServerError

from learning.core.inputs import wants_json
from learning.extensions import db

# status -> (title, what to do); statuses not listed get the generic pair.
PAGES = {
    400: (_l("The request could not be read"),
          _l("It contains a value or character that is not allowed. Nothing was changed; "
             "go back, correct it and try again.")),
    401: (_l("Please sign in"), _l("This page needs you to sign in first.")),
    403: (_l("You may not open this page."),
          _l("Your account does not have access to this page. If you need it, ask your "
             "administrator.")),
    404: (_l("Page not found"),
          _l("There is no page at this address. It may have moved, or the link may be "
             "mistyped.")),
    405: (_l("This address does not accept that request"),
          _l("Use the links and buttons on the pages rather than typing the address.")),
    413: (_l("What you sent is too large"),
          _l("Files may be at most 5 MB and text fields have limits too. Nothing was "
             "changed; send something smaller.")),
    429: (_l("Too many requests"),
          _l("Please wait a minute, then try again.")),
    500: (_l("Something went wrong"),
          _l("The problem is on our side and has been logged. Your saved work is safe; "
             "please try again in a moment.")),
}
GENERIC = (_l("The request could not be completed"),
           _l("Go back and try again, or start again from your courses."))


def _detail(error: HTTPException) -> str | None:
    """A description our own code gave (``abort(400, description=...)``), not Werkzeug's."""
    if error.description and error.description != type(error).description:
        return str(error.description)
    return None


def error_page(error: HTTPException):
    """Render an HTTP error in the site's layout (JSON for the API), keeping its status."""
    status = error.code or 500
    if request.path.startswith("/api/"):
        name = "server_error" if status == 500 else (error.name or "error")
        return jsonify(error=name.lower().replace(" ", "_")), status
    title, message = PAGES.get(status, GENERIC)
    return render_template("errors/error.html", status=status, title=title, message=message,
                           detail=_detail(error)), status


SIGNED_OUT = (_l("Your session has ended"),
              _l("You were signed out (in this or another tab, or after a long time away), "
                 "so this was not saved. Sign in again and carry on: everything saved "
                 "before is kept."))
STALE_PAGE = (_l("This page is out of date"),
              _l("It was opened before you last signed in, so it was not sent and nothing "
                 "changed. Go back, reload the page and try again."))
AUTOSAVE_SIGNED_OUT = _l("You are signed out, so answers are not being saved. Sign in "
                         "again in a new tab, then come back: answers saved before are kept.")


def _page_it_came_from() -> str | None:
    """The path of the page that sent the form, when it is one of ours."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path.startswith("/"):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def csrf_failure_page(status: int):
    """A form refused for its CSRF token: almost always a session that ended (signed out
    elsewhere, or expired) or a page older than the last sign-in. Say which, in the
    site's layout or as JSON for the autosave script, with the way back."""
    signed_in = current_user.is_authenticated
    if wants_json():
        message = STALE_PAGE[1] if signed_in else AUTOSAVE_SIGNED_OUT
        return jsonify(error=str(message), signed_out=not signed_in), status
    title, message = STALE_PAGE if signed_in else SIGNED_OUT
    back = _page_it_came_from()
    link = None if signed_in else (_l("Sign in again"),
                                   url_for("accounts.login", next=back) if back
                                   else url_for("accounts.login"))
    return render_template("errors/error.html", status=status, title=title, message=message,
                           detail=None, link=link), status


def server_error(error: InternalServerError):
    """Something failed on our side: undo the request's writes, show the plain 500 page."""
    db.session.rollback()
    return error_page(InternalServerError())


def init_app(app: Flask) -> None:
    """Every HTTP error, and every unhandled exception, gets a page with all the headers."""
    app.register_error_handler(HTTPException, error_page)
    app.register_error_handler(InternalServerError, server_error)
