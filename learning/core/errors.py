"""Error pages: one page for every HTTP error, in the site's layout; JSON under /api/."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

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


def server_error(error: InternalServerError):
    """Something failed on our side: undo the request's writes, show the plain 500 page."""
    db.session.rollback()
    return error_page(InternalServerError())


def init_app(app: Flask) -> None:
    """Every HTTP error, and every unhandled exception, gets a page with all the headers."""
    app.register_error_handler(HTTPException, error_page)
    app.register_error_handler(InternalServerError, server_error)
