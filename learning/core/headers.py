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


def security_headers(response: Response) -> Response:
    """A strict CSP, no sniffing or framing, HSTS behind HTTPS, and no-store on pages."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint not in CACHEABLE_ENDPOINTS and \
            "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Run ``security_headers`` after every request, including those that end in an error."""
    app.after_request(security_headers)
