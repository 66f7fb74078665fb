"""The app, plus test routes, for the graceful-shutdown test (gunicorn loads this)."""

import gc
import os
import time
from pathlib import Path

from learning import create_app

app = create_app()


@app.get("/test-slow")
def slow():
    """Answer after a pause; a marker file says the request has started."""
    Path(os.environ["SLOW_MARKER"]).write_text("started")
    time.sleep(float(os.environ.get("SLOW_SECONDS", "2")))
    return "finished"


@app.get("/test-frozen")
def frozen():
    """How many objects the worker's garbage collector leaves out (gc.freeze)."""
    return str(gc.get_freeze_count())
