"""Helpers every bench script shares: data directories, sign-in, gunicorn, wrk, load.

The scripts in ``bench/`` import from here, so a server, a sign-in or a load
generator is written once and every measure and its baseline run the same way.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ behind in the project

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
USER_AGENT = "waymark-bench/1.0"  # login and wrk must agree: Flask-Login hashes it into _id
FORM = "application/x-www-form-urlencoded"


class BenchError(RuntimeError):
    """Something the benchmark needs did not work; the message says what."""


@dataclass
class Dataset:
    """A data directory the app can run on, and the page to check it with."""

    root: Path
    env: dict[str, str]
    lesson_path: str
    lesson_title: str


@dataclass
class LoadResult:
    """What one load test measured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: list[str] = field(default_factory=list)


@dataclass
class Load(LoadResult):
    """A load-test result, with how many answers had the expected status."""

    ok: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    generator: str = "Python"  # or "wrk"

    @property
    def ok_share(self) -> float:
        return self.ok / self.requests if self.requests else 0.0


@dataclass
class Reply:
    """One HTTP exchange of the Python load generator."""

    status: int  # 0 when the connection failed
    headers: dict[str, str]
    body: bytes
    seconds: float


# --------------------------------------------------------------------------- data

@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """Temporarily set environment variables in this process (the app reads them)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value



def create_schema(dataset: Dataset) -> None:
    """Run the real migrations (``flask db upgrade``) against the dataset's database."""
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "db", "upgrade"], cwd=PROJECT_ROOT,
        env={**os.environ, **dataset.env}, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise BenchError(f"flask db upgrade failed:\n{result.stdout}{result.stderr}")



def dispose(app) -> None:
    """Close the app's database connections (before its directory is removed)."""
    from learning.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()



@contextmanager
def throwaway_postgres(name: str) -> Iterator[str]:
    """A PostgreSQL server of the test suite (tests/pgserver.py) for the block; yields a URL."""
    from tests.pgserver import ThrowawayPostgres

    server = ThrowawayPostgres()
    try:
        server.start()
        yield server.create_database(name)
    finally:
        server.stop()


# --------------------------------------------------------------------------- HTTP

def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http(port: int, method: str, path: str, headers: dict[str, str] | None = None,
         body: str | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    """One request, no redirects followed: status, headers (lower-case, all values), body."""
    conn = HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, body=body,
                     headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = conn.getresponse()
        found: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            found.setdefault(name.lower(), []).append(value)
        return response.status, found, response.read()
    finally:
        conn.close()


def remember_cookies(jar: SimpleCookie, headers: dict[str, list[str]]) -> None:
    """Store every Set-Cookie of a response in ``jar``."""
    for value in headers.get("set-cookie", []):
        jar.load(value)


def cookie_header(jar: SimpleCookie) -> str:
    """The Cookie header for the cookies in ``jar``."""
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def csrf_token(page: str) -> str:
    """The csrf_token hidden input of the first form on ``page``."""
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
    value = re.search(r'value="([^"]+)"', match.group(0)) if match else None
    if not value:
        raise BenchError("the login page has no csrf_token hidden input")
    return html.unescape(value.group(1))



def sign_in(port: int, email: str, password: str) -> SimpleCookie:
    """Sign in through the real /login form; returns the cookie jar of the session."""
    jar: SimpleCookie = SimpleCookie()
    status, headers, body = http(port, "GET", "/login")
    if status != 200:
        raise BenchError(f"GET /login answered {status}")
    remember_cookies(jar, headers)
    form = urllib.parse.urlencode({"csrf_token": csrf_token(body.decode()), "email": email,
                                   "password": password, "next": ""})
    status, headers, _ = http(port, "POST", "/login", {
        "Content-Type": FORM, "Cookie": cookie_header(jar)}, form)
    location = headers.get("location", [""])[0]
    if status != 302 or "/login" in location:
        raise BenchError(f"signing in as {email} failed: POST /login answered {status} "
                         f"{location}")
    remember_cookies(jar, headers)
    return jar


# --------------------------------------------------------------------------- servers

@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], args: argparse.Namespace, log: Path,
             ready_path: str) -> Iterator[int]:
    """Serve ``app_spec`` with gunicorn on a free port, with production's settings
    (``gunicorn.conf.py``: sync workers, JSON request lines, the loaded app frozen out of
    the garbage collector); yields the port.

    Every app gets the same command line apart from ``app_spec``. The server is
    stopped (SIGTERM, then SIGKILL) when the block ends, whatever happens.
    """
    port = free_port()
    command = [str(VENV_BIN / "gunicorn"), "-c", str(PROJECT_ROOT / "gunicorn.conf.py"),
               "-k", "sync", "-w", str(args.workers),
               "-b", f"{HOST}:{port}", "--chdir", str(PROJECT_ROOT),
               "--pythonpath", str(BENCH_DIR), "--log-level", "warning", app_spec]
    with log.open("w") as output:
        inherited = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"}
        process = subprocess.Popen(command, env={**inherited, **env}, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_ready(process, port, ready_path, log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(process: subprocess.Popen, port: int, path: str, log: Path) -> None:
    """Poll ``path`` until it answers 200; fail with gunicorn's log if it never does."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            if http(port, "GET", path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer {path} within 30 s:\n{log.read_text()}")



# --------------------------------------------------------------------------- wrk

def find_wrk() -> str | None:
    """Path of the wrk binary, or None."""
    return shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)


def to_ms(text: str) -> float:
    """A wrk duration ('850.00us', '12.3ms', '1.02s', '1.5m') in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise BenchError(f"cannot read the wrk duration {text!r}")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
    return float(match.group(1)) * scale[match.group(2)]


def parse_wrk(output: str) -> LoadResult:
    """Requests/s, p50, p99, request count and any errors from ``wrk --latency`` output."""
    def find(pattern: str) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise BenchError(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return match.group(1)

    errors = []
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    if socket_errors:
        errors.append(f"socket errors: {socket_errors.group(1)}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors.append(f"{non_2xx.group(1)} non-2xx/3xx responses")
    return LoadResult(
        requests_per_second=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=to_ms(find(r"^\s+50%\s+(\S+)")),
        p99_ms=to_ms(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")),
        errors=errors,
    )


def run_wrk(wrk: str, port: int, path: str, cookie: str | None,
            args: argparse.Namespace) -> LoadResult:
    """Load ``path`` with wrk for ``args.duration`` seconds and parse what it printed."""
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
               "--latency", "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    result = subprocess.run(command + [f"http://{HOST}:{port}{path}"], capture_output=True,
                            text=True, timeout=args.duration + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return parse_wrk(result.stdout)


def describe(label: str, result: LoadResult) -> None:
    """Print one load-test result."""
    print(f"  {label}: {result.requests_per_second:,.1f} req/s, p50 {result.p50_ms:.2f} ms, "
          f"p99 {result.p99_ms:.2f} ms ({result.requests:,} requests)")
    for error in result.errors:
        print(f"    warning: {error}")


# Appended to every generated wrk script: count answers by status, print them at the end.
LUA_STATUSES = """\
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("Status %d: %d\\n", status, count))
  end
end
"""

MIX_SCRIPT = """\
-- Generated by bench/common.py: GETs of a random path with a random reader's cookie.
local paths = {
@PATHS@
}
local cookies = {
@COOKIES@
}
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(tonumber(args[1]) + tid * 7919)
  statuses = {}
end

function request()
  local headers = {["User-Agent"] = "@AGENT@"}
  if #cookies > 0 then headers["Cookie"] = cookies[math.random(#cookies)] end
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

""" + LUA_STATUSES


def lua_strings(values: list[str]) -> str:
    """Lua table rows for ``values`` (JSON string syntax is valid Lua for ASCII text)."""
    return "\n".join(f"  {json.dumps(value, ensure_ascii=True)}," for value in values)


def mix_script(paths: list[str], cookies: list[str]) -> str:
    """A wrk script requesting random ``paths``, each with a random one of ``cookies``."""
    return (MIX_SCRIPT.replace("@PATHS@", lua_strings(paths))
            .replace("@COOKIES@", lua_strings(cookies)).replace("@AGENT@", USER_AGENT))


def run_wrk_script(wrk: str, port: int, script: str, script_path: Path,
                   args: argparse.Namespace, expected: int = 200, seed: int = 1) -> Load:
    """Run wrk with a generated script that reports its statuses; the parsed result."""
    script_path.write_text(script, encoding="utf-8")
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
               "--latency", "-s", str(script_path), f"http://{HOST}:{port}/", "--",
               str(seed)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    parsed = parse_wrk(result.stdout)
    statuses = {int(s): int(n) for s, n in re.findall(r"^Status (\d+): (\d+)$",
                                                      result.stdout, re.MULTILINE)}
    if not statuses:
        raise BenchError(f"the wrk script reported no statuses:\n{result.stdout}")
    return Load(parsed.requests_per_second, parsed.p50_ms, parsed.p99_ms, parsed.requests,
                parsed.errors, ok=statuses.get(expected, 0), statuses=statuses,
                generator="wrk")


# --------------------------------------------------------------------------- Python load

def build_request(method: str, path: str, headers: dict[str, str] | None = None,
                  body: str = "") -> bytes:
    """The bytes of one HTTP/1.1 request that asks the server to close the connection."""
    data = body.encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", f"User-Agent: {USER_AGENT}",
             "Connection: close", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    if method == "POST":
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def exchange(port: int, request: bytes) -> Reply:
    """Send one request on a new connection and read the answer until the server closes.

    Gunicorn's sync workers close every connection after one response, so this is
    what any client does with them; a plain socket keeps the generator's cost low.
    """
    start = time.perf_counter()
    try:
        with socket.create_connection((HOST, port), timeout=60) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return Reply(0, {}, b"", time.perf_counter() - start)
    seconds = time.perf_counter() - start
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return Reply(0, {}, b"", seconds)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(status, headers, body, seconds)


def summarise(seconds: list[float], statuses: Counter, elapsed: float, ok: int) -> Load:
    """Requests/s, p50 and p99 (in ms) and the status counts of a load test."""
    if len(seconds) < 2:
        raise BenchError(f"the load test made only {len(seconds)} request(s)")
    cuts = statistics.quantiles(seconds, n=100)
    errors = [f"{n} x status {s or 'connection failed'}" for s, n in sorted(statuses.items())
              if s >= 500 or s == 0]
    return Load(len(seconds) / elapsed, cuts[49] * 1000, cuts[98] * 1000, len(seconds),
                errors, ok=ok, statuses=dict(statuses))


def python_load(port: int, make_request: Callable[[int, int], bytes], connections: int,
                duration: float, expected: int) -> Load:
    """``connections`` threads send requests back to back for ``duration`` seconds.

    ``make_request(thread, n)`` gives the bytes of thread's n-th request.
    """
    seconds: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + duration

    def worker(thread: int) -> None:
        mine, counts = [], Counter()
        number = 0
        while time.perf_counter() < deadline:
            reply = exchange(port, make_request(thread, number))
            mine.append(reply.seconds)
            counts[reply.status] += 1
            number += 1
        with lock:
            seconds.extend(mine)
            statuses.update(counts)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summarise(seconds, statuses, time.perf_counter() - start, statuses[expected])



# --------------------------------------------------------------------------- running

def plural(number: int, noun: str) -> str:
    """'1 user', '1,000 users'."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"



def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value



def attempt(name: str, function, *args):
    """Run one part of the benchmark; its result, or None after printing why it failed."""
    try:
        return function(*args)
    except BenchError as error:
        print(f"\nFAILED ({name}): {error}", file=sys.stderr)
    except Exception:
        print(f"\nFAILED ({name}) with an unexpected error:", file=sys.stderr)
        traceback.print_exc()
    return None

