"""Security headers on every response, error pages included."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
# Everything else may carry personal data (a name in the header, a CSRF token, a
# certificate holder), so only these endpoints may be kept by a browser or a proxy:
# static files and lesson images are named by their content, the API document is public.
CACHEABLE_ENDPOINTS = frozenset({"static", "catalogue.media", "api.openapi"})


_ALWAYS = (("Content-Security-Policy", CONTENT_SECURITY_POLICY),
           ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
           ("X-Frame-Options", "DENY"))
_BEHIND_HTTPS = (*_ALWAYS, ("Strict-Transport-Security", HSTS))


def page_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    """The headers ``security_headers`` gives a page that set none of its own."""
    return (*(_BEHIND_HTTPS if secure else _ALWAYS), ("Cache-Control", "no-store"))


def security_headers(response: Response) -> Response:
    """A strict CSP, no sniffing or framing, HSTS behind HTTPS, and no-store on pages.

    A header the view set itself is kept. The response's headers are read once (each
    lookup in werkzeug's ``Headers`` walks the whole list): this runs on every response.
    """
    headers = response.headers
    present = {key.lower(): value for key, value in headers}
    wanted = _BEHIND_HTTPS if current_app.config.get("SESSION_COOKIE_SECURE") else _ALWAYS
    headers.extend([(key, value) for key, value in wanted if key.lower() not in present])
    if request.endpoint not in CACHEABLE_ENDPOINTS and \
            "no-store" not in present.get("cache-control", ""):
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Run ``security_headers`` after every request, including those that end in an error."""
    app.after_request(security_headers)
