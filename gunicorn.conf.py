"""Gunicorn settings for `make run` and production: sync workers, JSON logs, graceful stop.

Use: gunicorn -c gunicorn.conf.py 'learning:create_app()'. Settings come from the
environment: PORT (or -b), WEB_CONCURRENCY (workers), WAYMARK_GRACEFUL_TIMEOUT (seconds
a SIGTERM waits for requests in flight), WAYMARK_LOG_FORMAT (json by default here;
"plain" for gunicorn's own access lines). Every line goes through learning.core.redact:
invitation and reset tokens, verify codes and signed payloads become [redacted], and
CR/LF in user text is escaped.
"""

import gc
import os

from gunicorn.glogging import Logger

from learning.core.redact import install_redaction

bind = f"127.0.0.1:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# SIGTERM (systemd stop, a deploy): stop accepting, finish requests in flight, then exit.
graceful_timeout = int(os.environ.get("WAYMARK_GRACEFUL_TIMEOUT", "30"))
timeout = int(os.environ.get("WAYMARK_WORKER_TIMEOUT", "60"))
# JSON unless told otherwise: the app then writes one line per request (with its id),
# so gunicorn's own access line is off. raw_env sets it in the workers' environment.
LOG_FORMAT = os.environ.get("WAYMARK_LOG_FORMAT", "json").strip().lower()
JSON_LOGS = LOG_FORMAT == "json"
raw_env = [f"WAYMARK_LOG_FORMAT={LOG_FORMAT}"]
accesslog = None if JSON_LOGS else "-"
errorlog = "-"
# The request line (%(r)s) and the referrer (%(f)s) hold paths and query strings:
# the logger class below redacts them before the line is written.
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


def post_worker_init(worker):
    """Leave the loaded app out of the cyclic garbage collector's full passes.

    A worker holds a few hundred thousand long-lived objects (the app, its content and
    caches); each full collection walked all of them, a pause of about 0.1 s every few
    hundred requests. Frozen, they are never collected (they live as long as the worker
    does) and a full pass looks only at what requests made since.
    """
    gc.freeze()


class RedactingLogger(Logger):
    """Gunicorn's logger, with secrets and line breaks taken out of every line."""

    def setup(self, cfg):
        """Set up gunicorn's handlers (JSON lines if asked), then the redacting filter."""
        super().setup(cfg)
        if JSON_LOGS:
            from learning.ops.requestlog import JsonFormatter

            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())
        install_redaction(self.error_log, self.access_log)


logger_class = RedactingLogger
