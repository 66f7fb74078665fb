"""gunicorn.conf.py: SIGTERM lets a request in flight finish; logs are JSON lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.pgserver import free_port
from tests.server import Client

ROOT = Path(__file__).resolve().parent.parent


def test_sigterm_lets_a_slow_request_finish(tmp_path):
    port, marker = free_port(), tmp_path / "started"
    env = {key: value for key, value in os.environ.items()
           if key not in ("FLASK_DEBUG", "REDIS_URL", "DATABASE_URL", "WAYMARK_LOG_FORMAT")}
    env |= {"WAYMARK_SECRET_KEY": "graceful-test", "WAYMARK_BASE_URL": "http://127.0.0.1",
            "WAYMARK_INSTANCE_PATH": str(tmp_path), "WEB_CONCURRENCY": "1",
            "WAYMARK_GRACEFUL_TIMEOUT": "20", "SLOW_MARKER": str(marker), "SLOW_SECONDS": "2"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}",
         "tests.slowapp:app"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if Client(port).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "no gunicorn"
            time.sleep(0.1)
        # The worker froze the loaded app out of the garbage collector (post_worker_init).
        status, _headers, frozen = Client(port).request("GET", "/test-frozen")
        assert status == 200 and int(frozen) > 50_000
        answer = {}

        def ask() -> None:
            answer["status"], headers, answer["body"] = Client(port).request(
                "GET", "/test-slow", headers={"X-Request-Id": "graceful-0001"})
            answer["id"] = headers.get("X-Request-Id")

        thread = threading.Thread(target=ask)
        thread.start()
        while not marker.exists():
            assert time.monotonic() < deadline, "the slow request never started"
            time.sleep(0.02)
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        thread.join(timeout=15)
        assert answer == {"status": 200, "body": "finished", "id": "graceful-0001"}
        assert process.wait(timeout=15) == 0
        assert time.monotonic() - stopped_at < 15
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    output = process.stdout.read().splitlines()
    records = [json.loads(line) for line in output if line.startswith("{")]
    slow = [r for r in records if r.get("path") == "/test-slow"]
    assert len(slow) == 1 and slow[0]["request_id"] == "graceful-0001"
    assert slow[0]["status"] == 200 and slow[0]["duration_ms"] >= 1500
    assert not any("GET /test-slow HTTP" in line for line in output)  # no plain access line
    assert all(line.startswith("{") for line in output if line.strip()), output
