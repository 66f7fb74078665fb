"""``/api/v1/``: officers, assignments, completions and certificates as JSON.

Also ``/agency/tokens/``, where agency managers create and revoke the tokens.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from learning.access import fresh_mfa_required, role_required
from learning.api import params, queries, service
from learning.api.forms import RevokeTokenForm, TokenForm
from learning.api.openapi import DOCUMENT
from learning.api.params import ApiError
from learning.api.queries import Page
from learning.api.service import TokenError
from learning.audit.service import record_audit
from learning.core.urls import base_url, external_url
from learning.extensions import csrf, db
from learning.timeutil import utcnow

bp = Blueprint("api", __name__, url_prefix="/api/v1")
tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/agency/tokens")
csrf.exempt(bp)  # read-only, and authenticated by a header a browser never sends by itself

PUBLIC_ENDPOINTS = {"api.openapi", "api.unknown"}
OTHER_METHODS = ["POST", "PUT", "PATCH", "DELETE"]


def _error(status: int, error: str, message: str):
    response = jsonify(error=error, message=message)
    response.status_code = status
    if status == 401:  # RFC 6750: name the error only when a token was sent
        response.headers["WWW-Authenticate"] = 'Bearer realm="waymark"' + (
            ', error="invalid_token"' if error == "invalid_token" else "")
    return response


@bp.errorhandler(ApiError)
def api_error(exc: ApiError):
    """A refused request, as JSON."""
    return _error(exc.status, exc.error, exc.message)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """Any other HTTP error inside the API, as JSON rather than an HTML page."""
    return _error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"),
                  exc.description or "")


@bp.before_request
def require_token():
    """Every endpoint but the document needs ``Authorization: Bearer <token>``."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _space, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return _error(401, "missing_token",
                      "Send an agency API token as 'Authorization: Bearer <token>'.")
    try:
        token = service.authenticate(raw.strip())
    except service.TokenExpired as exc:
        when = f" on {exc.expires_at:%Y-%m-%d}" if exc.expires_at else ""
        return _error(401, "invalid_token", f"This token expired{when}. A manager of the "
                      "agency can create a new one on the API tokens page.")
    if token is None:
        return _error(401, "invalid_token", "This token is unknown or has been revoked.")
    g.api_token = token
    return None


@bp.after_request
def no_store(response):
    """People's data must not sit in shared caches."""
    if request.endpoint != "api.openapi":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def audit_read(response):
    """Every request made with a valid token is one audit row: which token read what."""
    token = g.get("api_token")
    if token is not None:
        record_audit(None, "api.read", f"api token {token.id} ({token.name})",
                     {"path": request.full_path.rstrip("?"), "status": response.status_code},
                     agency_id=token.agency_id,
                     outcome="success" if response.status_code < 400 else "failure")
        db.session.commit()
    return response


def _page_json(page: Page):
    next_url = None
    if page.next_cursor is not None:
        args = {**request.args.to_dict(), "cursor": str(page.next_cursor)}
        next_url = external_url(request.endpoint, **(request.view_args or {}), **args)
    return jsonify(data=page.items, next=next_url)


def _params() -> params.ListParams:
    return params.parse_list_params(request.args)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document describing this API (public)."""
    return jsonify({**DOCUMENT, "servers": [{"url": base_url() + "/api/v1"}]})


@bp.get("/officers")
def officers():
    """The agency's people."""
    return _page_json(queries.list_officers(g.api_token, _params(), request.args.get("email")))


@bp.get("/officers/<int:officer_id>")
def officer(officer_id: int):
    """One person of the agency."""
    found = queries.get_officer(g.api_token, officer_id)
    if found is None:
        raise ApiError(404, "not_found", "No person of your agency has this id.")
    return jsonify(found)


@bp.get("/assignments")
def assignments():
    """The agency's assignments."""
    return _page_json(queries.list_assignments(g.api_token, _params(),
                                               request.args.get("course")))


@bp.get("/completions")
def completions():
    """Completions by the agency's people."""
    return _page_json(queries.list_completions(
        g.api_token, _params(), request.args.get("officer_email"), request.args.get("course")))


@bp.get("/certificates")
def certificates():
    """Certificates of the agency's people, with their status today."""
    return _page_json(queries.list_certificates(
        g.api_token, _params(), utcnow().date(), base_url(),
        officer_email=request.args.get("officer_email"), course=request.args.get("course"),
        status=params.parse_status(request.args.get("status"))))


@bp.get("/certificates/<int:certificate_id>")
def certificate(certificate_id: int):
    """One certificate of the agency's people."""
    found = queries.get_certificate(g.api_token, certificate_id, utcnow().date(), base_url())
    if found is None:
        raise ApiError(404, "not_found", "No certificate of your agency has this id.")
    return jsonify(found)


@bp.route("/", defaults={"path": ""}, methods=["GET", *OTHER_METHODS])
@bp.route("/<path:path>", methods=["GET", *OTHER_METHODS])
def unknown(path: str):
    """Anything else under /api/v1/: a JSON 405 for a known path, else a JSON 404."""
    try:
        endpoint, _args = current_app.url_map.bind_to_environ(request.environ).match(
            method="GET")
    except (NotFound, MethodNotAllowed):
        endpoint = None
    if endpoint not in (None, "api.unknown") and request.method != "GET":
        response = _error(405, "method_not_allowed", "This API is read-only: use GET.")
        response.headers["Allow"] = "GET, HEAD, OPTIONS"
        return response
    return _error(404, "not_found",
                  "No such endpoint; the API is described at /api/v1/openapi.json.")


# Token pages for agency managers ------------------------------------------------------

def _token_manager_only() -> None:
    if not service.can_manage_tokens(current_user):
        abort(403)


@tokens_bp.route("/", methods=["GET", "POST"])
@role_required("manager")
@fresh_mfa_required
def index():
    """The agency's tokens and a form to create one; a new token is shown here once."""
    _token_manager_only()
    form, raw, made = TokenForm(), None, None
    if form.validate_on_submit():
        try:
            made, raw = service.create_token(current_user, form.name.data,
                                             form.valid_for.data)
        except TokenError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            form = TokenForm(formdata=None)
    response = make_response(render_template(
        "agency/tokens.html", form=form, raw=raw, made=made, revoke_form=RevokeTokenForm(),
        tokens=service.tokens_of(current_user.agency_id), now=utcnow(),
        soon=service.EXPIRING_SOON))
    response.headers["Cache-Control"] = "no-store"
    return response


@tokens_bp.post("/<int:token_id>/revoke")
@role_required("manager")
def revoke(token_id: int):
    """Revoke a token at once: the system using it gets 401 from its next request."""
    _token_manager_only()
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    if service.revoke_token(current_user, token_id) is None:
        abort(404)
    flash(_("The token is revoked."), "success")
    return redirect(url_for(".index"))
