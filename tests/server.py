"""A real server process for concurrency tests, and a minimal cookie-keeping HTTP client."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from tests.pgserver import free_port


@contextmanager
def gunicorn(database_url: str, courses: Path, quizzes: Path, workers: int = 2,
             threads: int = 8) -> Iterator[int]:
    """Serve the app from a separate process (several workers and threads); yields the port."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, WAYMARK_SECRET_KEY="concurrency-test",
               WAYMARK_BASE_URL="http://127.0.0.1",
               WAYMARK_COURSES_DIR=str(courses), WAYMARK_QUIZZES_DIR=str(quizzes),
               WAYMARK_REQUIRE_MFA="0")  # as in conftest: the MFA tests turn it on
    env.pop("FLASK_DEBUG", None)
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread",
               "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
               "learning:create_app()"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _headers, _body = Client(port).request("GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.poll() is not None else ""
                raise RuntimeError(f"gunicorn did not start: {output}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class Client:
    """One browser-like session: keeps cookies, never follows redirects."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies = SimpleCookie()

    def request(self, method: str, path: str, data: list[tuple[str, str]] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={m.value}" for k, m in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            for value in response.headers.get_all("Set-Cookie") or []:
                self.cookies.load(value)
            return response.status, dict(response.headers), text
        finally:
            connection.close()

    def csrf_token(self, path: str) -> str:
        status, _headers, text = self.request("GET", path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', text).group(1)

    def log_in(self, email: str, password: str) -> None:
        token = self.csrf_token("/login")
        status, _h, _t = self.request("POST", "/login", [("csrf_token", token), ("email", email),
                                                          ("password", password)])
        assert status == 302, status
