"""The smallest Flask app: the baseline that bench/pages.py compares the lesson page with.

Served by gunicorn as ``minimal_app:app`` with the same settings as Waymark, so the
difference between the two is what Waymark does per request, not the server.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """A short constant string."""
    return "Hello from the baseline app.\n"
