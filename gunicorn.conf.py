"""Gunicorn settings for `make run` and production: sync workers and a redacting log.

Use: gunicorn -c gunicorn.conf.py 'learning:create_app()'. Every access and error line
goes through learning.core.redact: invitation and reset tokens, verify codes and signed
payloads become [redacted], and CR/LF in user text is escaped.
"""

import os

from gunicorn.glogging import Logger

from learning.core.redact import install_redaction

bind = f"127.0.0.1:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
accesslog = "-"
errorlog = "-"
# The request line (%(r)s) and the referrer (%(f)s) hold paths and query strings:
# the logger class below redacts them before the line is written.
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'


class RedactingLogger(Logger):
    """Gunicorn's logger, with secrets and line breaks taken out of every line."""

    def setup(self, cfg):
        """Set up gunicorn's handlers, then put the redacting filter on both logs."""
        super().setup(cfg)
        install_redaction(self.error_log, self.access_log)


logger_class = RedactingLogger
