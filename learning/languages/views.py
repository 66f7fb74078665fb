"""``POST /language``: the language switch in every page's footer (works without JavaScript)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user

from learning.accounts.service import is_safe_redirect
from learning.extensions import csrf, db
from learning.languages.service import (
    COOKIE,
    direction,
    html_lang,
    native_name,
    normalise,
    shipped,
)

bp = Blueprint("languages", __name__)
COOKIE_SECONDS = 60 * 60 * 24 * 365


@bp.post("/language")
@csrf.exempt
def choose():
    """Remember the choice: on the account when signed in, in a cookie otherwise.

    Visitors' forms carry no CSRF token (it only sets their own cookie, and public pages
    such as a refused sign-in must stay byte-identical); a signed-in person's must.
    """
    if current_user.is_authenticated and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    requested = request.form.get("language", "")
    language = normalise(requested, shipped()) if requested else ""
    if language is None:
        abort(400, description="Unknown language.")
    target = request.form.get("next", "")
    response = redirect(target if is_safe_redirect(target) else url_for("core.home"), 303)
    if current_user.is_authenticated:
        current_user.language = language or None  # empty: the agency's language again
        db.session.commit()
    if language:
        response.set_cookie(COOKIE, language, max_age=COOKIE_SECONDS, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    else:
        response.delete_cookie(COOKIE)
    return response


@bp.app_context_processor
def language_context() -> dict:
    """What base.html needs: the page's language and direction, and the switch's choices."""
    from flask_babel import get_locale

    locale = get_locale()
    code = str(locale) if locale is not None else "en"
    return {"interface_language": code, "interface_lang": html_lang(code),
            "interface_dir": direction(code),
            "forward_arrow": "←" if direction(code) == "rtl" else "→",
            "language_next": _return_path(),
            "language_choices": [(c, native_name(c), html_lang(c)) for c in shipped()]}


def _return_path() -> str:
    """Where the switch returns to: this page, unless its address holds a secret or is unknown.

    Certificate codes, invitation and reset tokens stay out of the page (a verify page
    for an unknown code must be byte-identical to any other), as do addresses no route
    matched (a 404 never echoes what was asked).
    """
    from flask import request

    args = request.view_args or {}
    if request.endpoint is None or {"code", "token"} & set(args):
        return url_for("core.home")
    return request.path
