"""Running in production: proxies, request ids and JSON logs, Redis, readiness, backups."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from learning.ops import redisconn, requestlog


def trust_proxies(app: Flask) -> None:
    """Believe exactly ``PROXIES`` hops of X-Forwarded-For/-Proto/-Host/-Port, never more.

    With 0 (the default) the headers are ignored: the client address is the TCP peer. A
    client can always add its own X-Forwarded-For entries; only the ones our proxies
    appended (the last N) are taken, so a spoofed extra hop changes nothing.
    """
    hops = app.config["PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=0)


def init_app(app: Flask) -> None:
    """Proxy trust, the request log with its id, and a clear 503 when Redis is away."""
    trust_proxies(app)
    requestlog.init_app(app)
    redisconn.init_app(app)
