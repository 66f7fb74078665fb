"""Benchmark the lesson page: throughput under gunicorn, and SQL statements per request.

Run ``.venv/bin/python bench/pages.py`` (or ``make bench``) from the project root.
In one run it:

1. builds a throwaway data directory (generated course, empty quizzes folder, SQLite
   database, secret key) and points the app at it through environment variables;
2. serves Waymark with gunicorn (sync workers), signs in as an officer through the
   real /login form and loads one lesson page with ``wrk``;
3. serves ``bench/minimal_app.py`` (a bare Flask app) with exactly the same settings
   and loads it the same way, as the baseline;
4. counts SQL statements for one lesson page in-process, for a small course with one
   user and a large course with 1,000 users;
5. prints a summary. The figures are reported, not asserted: the exit status is 1
   only when something failed to run.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ behind in the project

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(PROJECT_ROOT))
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
USER_AGENT = "waymark-bench/1.0"  # login and wrk must agree: Flask-Login hashes it into _id
OFFICER_EMAIL = "officer@bench.example"
OFFICER_PASSWORD = "bench-password-123"
COURSE_SLUG = "bench-course"
LESSON_BYTES = 20_000
TARGET_RATIO = 0.5
TARGET_STATEMENTS = 3
SQL_SCENARIOS = ((5, 1), (100, 1_000))  # (lessons in the course, users in the database)


class BenchError(RuntimeError):
    """Something the benchmark needs did not work; the message says what."""


@dataclass
class Dataset:
    """A data directory the app can run on, and the lesson page to request."""

    root: Path
    env: dict[str, str]
    lesson_path: str
    lesson_title: str


@dataclass
class LoadResult:
    """What wrk measured for one URL."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- content

TOPICS = [
    "document control", "secondary inspection", "travel patterns", "the referral decision",
    "first conversations", "vehicle checks", "airport transit", "children travelling alone",
    "recruitment and debt", "working with interpreters", "identity documents",
    "the national referral mechanism",
]
PARAGRAPHS = [
    "At {topic}, an officer often has less than a minute with each traveller. That is "
    "enough to notice whether the story, the documents and the behaviour fit together, "
    "but not enough to decide what is happening. Treat what you see as a reason to look "
    "more closely, never as proof: most people who travel in unusual ways are not victims "
    "of trafficking, and most victims do not say that they are.",
    "A traveller who cannot say where they will stay, who paid for the ticket, or what "
    "work is waiting for them deserves a calm follow-up question. Ask open questions, in "
    "a language the person understands, and away from any companion who answers for "
    "them. Write down what was said in the person's own words; a careful note made now "
    "is worth more than a detailed memory reconstructed a week later.",
    "Traffickers adapt quickly. Routes change when checks tighten, and recruiters coach "
    "victims on what to say at {topic}. Indicator lists are therefore a starting point: "
    "they help you notice a pattern, but they cannot replace judgement, experience and "
    "a conversation with a specialist colleague when something does not add up.",
    "The Protocol defines trafficking through three elements: an act (recruitment, "
    "transport, transfer, harbouring or receipt), a means (threat, force, coercion, "
    "abduction, fraud, deception, abuse of power or of a position of vulnerability) and "
    "a purpose of exploitation. For children, the means element is not required, which "
    "changes what you need to establish before you refer.",
    "Referral is not an accusation. It hands the situation to people trained to assess "
    "it and to offer protection, and it keeps a record that may help the next officer "
    "who meets the same recruiter or the same route. When in doubt, refer: a referral "
    "that turns out to be unnecessary costs far less than a victim sent onward.",
    "Keep the person's safety in mind throughout. A suspected victim may fear the "
    "authorities more than the people who control them, may have been told that "
    "officers are corrupt, or may be in debt to someone waiting on the other side of "
    "{topic}. Explain who you are, what will happen next, and what will not happen.",
]
BULLETS = [
    "Documents held by someone other than the traveller",
    "A return ticket that does not match the stated purpose of the trip",
    "Answers that sound rehearsed, or that change when asked again",
    "Signs of fear, exhaustion or injury that the person does not explain",
    "A companion who answers every question and keeps close",
    "Very little luggage for a long stay, or luggage that is not the traveller's",
    "An employer or agency the traveller cannot name",
    "Debts for travel or placement fees far larger than any likely wage",
]
CALLOUTS = [
    ("indicator", "Indicators at {topic}",
     "The traveller cannot say where they will stay or who will meet them. Someone "
     "else holds their passport and answers for them. Each sign alone proves nothing; "
     "several together are a reason to take the person aside and ask more."),
    ("legal", "Legal note",
     "Article 10 of the Protocol asks States Parties to train border officials to "
     "recognise trafficking and to consider the human rights of victims. National law "
     "decides who may refer and to whom: check your own service's instructions."),
    ("practice", "Practice tip",
     "Speak to the person alone, with an interpreter who is not connected to their "
     "companions. Keep questions short and open, and do not promise what you cannot "
     "deliver, such as permission to stay or protection from prosecution."),
    ("scenario", "Scenario at {topic}",
     "A young woman arrives on a tourist visa with a new passport, a one-way ticket "
     "and the address of a modelling agency. A man who says he is her cousin waits "
     "in the arrivals hall and calls her phone twice while you speak. What do you do?"),
]


def lesson_slug(index: int) -> str:
    """The file name (without .md) of lesson ``index`` (1-based)."""
    return f"lesson-{index:03d}"


def lesson_title(index: int) -> str:
    """A readable, HTML-safe title for lesson ``index``."""
    topic = TOPICS[(index - 1) % len(TOPICS)]
    return f"Lesson {index}: Signs of trafficking in {topic}"


def _section(lesson: int, number: int, next_link: str | None) -> tuple[str, str]:
    """One ``##`` section of a lesson (text and its footnote definition)."""
    topic = TOPICS[(lesson + number) % len(TOPICS)]
    paras = [PARAGRAPHS[(lesson + number + k) % len(PARAGRAPHS)].format(topic=topic)
             for k in range(3)]
    kind, title, text = CALLOUTS[(lesson + number) % len(CALLOUTS)]
    bullets = [BULLETS[(lesson + number + k) % len(BULLETS)] for k in range(4)]
    link = (f" When you have finished, continue with [the next lesson]({next_link})."
            if next_link and number == 1 else "")
    rows = "\n".join(
        f"| {BULLETS[(number + k) % len(BULLETS)]} | {TOPICS[(number + k) % len(TOPICS)]} | "
        f"{'Refer' if k % 2 else 'Ask more'} |" for k in range(4))
    body = f"""## {number}. Working at {topic} (part {number})

{paras[0]}[^note{number}]

{paras[1]}{link}

### What to look for ({number})

{chr(10).join(f"- {b}" for b in bullets)}

!!! {kind} "{title.format(topic=topic)}"
    {text}

| Sign | Where you may notice it | First step |
|:-----|:------------------------|----------:|
{rows}

{paras[2]}
"""
    note = (f"[^note{number}]: UNODC, *Global Report on Trafficking in Persons 2024*, "
            f"chapter {number}, on {topic}.")
    return body, note


def lesson_markdown(index: int, total: int) -> str:
    """A realistic lesson of about ``LESSON_BYTES`` bytes: front matter and sections."""
    next_link = f"{lesson_slug(index + 1)}.md" if index < total else None
    parts = [f"""---
title: "{lesson_title(index)}"
estimated_minutes: 12
objectives:
  - Notice the indicators of trafficking that appear at the border.
  - Decide when to take a traveller aside and when to refer.
sources:
  - "UN Trafficking in Persons Protocol (2000), Article 3."
  - "OSCE, *Trafficking in Human Beings: Identification of Potential Victims* (2019)."
---
Read this lesson with [the course overview](course.md) in mind.
"""]
    notes: list[str] = []
    number = 0
    while sum(len(p) for p in parts) + sum(len(n) + 2 for n in notes) < LESSON_BYTES:
        number += 1
        body, note = _section(index, number, next_link)
        parts.append(body)
        notes.append(note)
    return "\n".join(parts) + "\n" + "\n\n".join(notes) + "\n"


def course_markdown(lessons: int) -> str:
    """course.md for ``lessons`` lessons, grouped in modules of ten."""
    modules = []
    for start in range(1, lessons + 1, 10):
        slugs = "".join(f"      - {lesson_slug(i)}\n"
                        for i in range(start, min(start + 10, lessons + 1)))
        modules.append(f"  - title: Module {start // 10 + 1}\n    lessons:\n{slugs}")
    return f"""---
title: Benchmark course on trafficking at the border
summary: A generated course used to measure how fast lesson pages are served.
audience:
  - First-line border officers
objectives:
  - Recognise indicators of trafficking and refer when in doubt.
pass_mark: 80
certificate_validity_months: 24
language: en
sources:
  - "UNODC, *Global Report on Trafficking in Persons 2024* (8th edition, December 2024)."
modules:
{"".join(modules)}---
This course is generated by bench/pages.py. It has {lessons} lessons.
"""


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


def write_data_dir(root: Path, lessons: int) -> Dataset:
    """Course files, an empty quizzes folder and a secret key under ``root``."""
    course_dir = root / "courses" / COURSE_SLUG
    course_dir.mkdir(parents=True)
    (root / "quizzes").mkdir()
    (course_dir / "course.md").write_text(course_markdown(lessons), encoding="utf-8")
    for index in range(1, lessons + 1):
        (course_dir / f"{lesson_slug(index)}.md").write_text(
            lesson_markdown(index, lessons), encoding="utf-8")
    key = secrets.token_urlsafe(48)
    (root / "secret_key").write_text(key + "\n")
    env = {
        "DATABASE_URL": f"sqlite:///{root / 'waymark.sqlite'}",  # absolute: sqlite:////tmp/...
        "WAYMARK_COURSES_DIR": str(root / "courses"),
        "WAYMARK_QUIZZES_DIR": str(root / "quizzes"),
        "WAYMARK_SECRET_KEY": key,
        "WAYMARK_BASE_URL": "http://127.0.0.1",
        "FLASK_APP": "learning",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    middle = (lessons + 1) // 2  # a lesson with both a previous and a next one
    return Dataset(root, env, f"/courses/{COURSE_SLUG}/{lesson_slug(middle)}/",
                   lesson_title(middle))


def create_schema(dataset: Dataset) -> None:
    """Run the real migrations (``flask db upgrade``) against the dataset's database."""
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "db", "upgrade"], cwd=PROJECT_ROOT,
        env={**os.environ, **dataset.env}, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise BenchError(f"flask db upgrade failed:\n{result.stdout}{result.stderr}")


def populate(dataset: Dataset, extra_users: int = 0):
    """Publish the course and create the officer (plus ``extra_users`` officers in bulk).

    Returns the app, configured from the dataset's environment.
    """
    import sqlalchemy as sa

    from learning import create_app
    from learning.accounts.models import User
    from learning.accounts.service import create_user, get_or_create_agency, hash_password
    from learning.catalogue.service import sync_catalogue
    from learning.extensions import db

    with environment(dataset.env):
        app = create_app()
    with app.app_context():
        report = sync_catalogue(Path(dataset.env["WAYMARK_COURSES_DIR"]),
                                Path(dataset.env["WAYMARK_QUIZZES_DIR"]))
        if not report.ok or not report.created:
            problems = "\n".join(map(str, report.problems))
            raise BenchError(f"the generated course did not publish:\n{problems}")
        agency = get_or_create_agency("Bench Border Agency", "bench-border-agency")
        create_user(OFFICER_EMAIL, "Bench Officer", OFFICER_PASSWORD, "officer", agency)
        if extra_users:
            password_hash = hash_password("not-used-by-anyone")  # argon2 once, not per user
            db.session.execute(sa.insert(User), [
                {"email": f"officer{n}@bench.example", "display_name": f"Officer {n}",
                 "role": "officer", "password_hash": password_hash, "agency_id": agency.id}
                for n in range(1, extra_users + 1)])
        db.session.commit()
    return app


def dispose(app) -> None:
    """Close the app's database connections (before its directory is removed)."""
    from learning.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def build_dataset(root: Path, lessons: int, extra_users: int = 0):
    """Files, schema and rows for one scenario; returns the dataset and its app."""
    dataset = write_data_dir(root, lessons)
    create_schema(dataset)
    return dataset, populate(dataset, extra_users)


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


def log_in(port: int) -> str:
    """Sign in through the real /login form; returns the Cookie header to send."""
    jar = SimpleCookie()
    status, headers, body = http(port, "GET", "/login")
    if status != 200:
        raise BenchError(f"GET /login answered {status}")
    remember_cookies(jar, headers)
    form = urllib.parse.urlencode({"csrf_token": csrf_token(body.decode()),
                                   "email": OFFICER_EMAIL, "password": OFFICER_PASSWORD,
                                   "next": ""})
    status, headers, body = http(port, "POST", "/login", {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(jar)},
        form)
    location = headers.get("location", [""])[0]
    if status != 302 or "/login" in location:
        raise BenchError(f"signing in failed: POST /login answered {status} {location}")
    remember_cookies(jar, headers)
    return cookie_header(jar)


def check_lesson_page(port: int, dataset: Dataset, cookie: str) -> tuple[int, bool]:
    """Make sure the lesson URL serves the lesson itself; returns (body bytes, sets cookie)."""
    status, headers, body = http(port, "GET", dataset.lesson_path, {"Cookie": cookie})
    if status != 200:
        where = headers.get("location", [""])[0]
        raise BenchError(f"GET {dataset.lesson_path} answered {status} {where} instead of "
                         "the lesson (is the session cookie accepted?)")
    if html.escape(dataset.lesson_title).encode() not in body:
        raise BenchError(f"GET {dataset.lesson_path} answered 200 without the lesson title "
                         f"{dataset.lesson_title!r}")
    return len(body), "set-cookie" in headers


# --------------------------------------------------------------------------- servers

@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], args: argparse.Namespace, log: Path,
             ready_path: str) -> Iterator[int]:
    """Serve ``app_spec`` with gunicorn (sync workers) on a free port; yields the port.

    Every app gets the same command line apart from ``app_spec``. The server is
    stopped (SIGTERM, then SIGKILL) when the block ends, whatever happens.
    """
    port = free_port()
    command = [str(VENV_BIN / "gunicorn"), "-k", "sync", "-w", str(args.workers),
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


# --------------------------------------------------------------------------- the parts

def load_tests(root: Path, args: argparse.Namespace, wrk: str) -> dict:
    """Steps 1-5: the lesson page and the minimal app under gunicorn and wrk."""
    print(f"== Building a course of {args.lessons} lessons in {root}")
    dataset, app = build_dataset(root, args.lessons)
    dispose(app)
    sizes = [p.stat().st_size for p in (root / "courses" / COURSE_SLUG).glob("lesson-*.md")]
    print(f"  lesson files: {min(sizes):,}-{max(sizes):,} bytes")
    figures: dict = {}

    print(f"== Waymark under gunicorn (-k sync -w {args.workers}): GET {dataset.lesson_path}")
    with gunicorn("learning:create_app()", dataset.env, args, root / "waymark.log",
                  "/healthz") as port:
        cookie = log_in(port)
        figures["size"], sets_cookie = check_lesson_page(port, dataset, cookie)
        if sets_cookie:
            print("  note: the lesson page sets a cookie on every request")
        figures["lesson"] = run_wrk(wrk, port, dataset.lesson_path, cookie, args)
        check_lesson_page(port, dataset, cookie)  # still signed in after the run
        describe("lesson page", figures["lesson"])

    print("== Minimal Flask app under the same gunicorn settings: GET /")
    with gunicorn("minimal_app:app", dataset.env, args, root / "minimal.log", "/") as port:
        figures["minimal"] = run_wrk(wrk, port, "/", None, args)
        describe("minimal app", figures["minimal"])
    return figures


def count_statements(root: Path, lessons: int, users: int, timing_runs: int) -> dict:
    """Step 6: SQL statements (and in-process time) for one lesson GET, signed in."""
    import sqlalchemy as sa

    from learning.extensions import db

    print(f"== SQL per lesson page: {lessons} lessons, {plural(users, 'user')}")
    dataset, app = build_dataset(root, lessons, extra_users=users - 1)
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        response = client.post("/login", data={
            "csrf_token": csrf_token(page), "email": OFFICER_EMAIL,
            "password": OFFICER_PASSWORD, "next": ""})
        if response.status_code != 302:
            raise BenchError(f"in-process sign-in answered {response.status_code}")
        client.get(dataset.lesson_path)  # warm-up: templates compiled, caches filled

        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.get(dataset.lesson_path)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        body = response.get_data()
        if response.status_code != 200 or html.escape(dataset.lesson_title).encode() not in body:
            raise BenchError(f"in-process GET {dataset.lesson_path} answered "
                             f"{response.status_code} without the lesson")
        for statement in statements:
            print("    " + " ".join(statement.split())[:96])

        times = []
        for _ in range(timing_runs):
            start = time.perf_counter()
            client.get(dataset.lesson_path)
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        print(f"  {len(statements)} statements; in-process median {median:.2f} ms per GET")
        return {"lessons": lessons, "users": users, "statements": len(statements),
                "ms": median}
    finally:
        dispose(app)


# --------------------------------------------------------------------------- report

def plural(number: int, noun: str) -> str:
    """'1 user', '1,000 users'."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def print_summary(figures: dict, counts: list[dict]) -> None:
    """The summary table of everything measured (missing figures shown as '-')."""
    def row(label: str, value: str, target: str = "", verdict: str = "") -> None:
        print(f"  {label:<48} {value:>18}  {target:<8} {verdict}")

    print("\n== Summary")
    row("measure", "value", "target", "")
    row("-" * 48, "-" * 18, "-" * 8)
    lesson, minimal = figures.get("lesson"), figures.get("minimal")
    for label, result in (("lesson page", lesson), ("minimal app", minimal)):
        if result:
            row(f"{label}: requests/s", f"{result.requests_per_second:,.1f}")
            row(f"{label}: p50 / p99 latency",
                f"{result.p50_ms:.2f} / {result.p99_ms:.2f} ms")
        else:
            row(f"{label}: requests/s", "-")
    if lesson and minimal:
        ratio = lesson.requests_per_second / minimal.requests_per_second
        row("ratio lesson / minimal", f"{ratio:.2f}", f">= {TARGET_RATIO}",
            "ok" if ratio >= TARGET_RATIO else "BELOW TARGET")
    if "size" in figures:
        row("lesson page response body", f"{figures['size']:,} bytes")
    for count in counts:
        row(f"SQL per lesson GET ({count['lessons']} lessons, {plural(count['users'], 'user')})",
            str(count["statements"]), f"<= {TARGET_STATEMENTS}",
            "ok" if count["statements"] <= TARGET_STATEMENTS else "ABOVE TARGET")
    for count in counts:
        row(f"in-process ms per GET ({count['lessons']} lessons)", f"{count['ms']:.2f} ms")
    if len(counts) == 2:
        same = counts[0]["statements"] == counts[1]["statements"]
        row("SQL count independent of size", "yes" if same else "no", "equal",
            "ok" if same else "GROWS WITH DATA")


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=positive, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--workers", type=positive, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--threads", type=positive, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=positive, default=16, help="wrk connections (16)")
    parser.add_argument("--lessons", type=positive, default=20,
                        help="lessons in the load-test course (20)")
    parser.add_argument("--timing-runs", type=positive, default=50,
                        help="in-process GETs timed per SQL scenario (50)")
    return parser.parse_args(argv)


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


def main(argv: list[str] | None = None) -> int:
    """Run every part; report what could be measured; 1 if anything failed to run."""
    args = parse_args(argv)
    failed = False
    figures: dict = {}
    counts: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="waymark-bench-") as tmp:
        root = Path(tmp)
        wrk = find_wrk()
        if wrk:
            figures = attempt("load test", load_tests, root / "load", args, wrk) or {}
            failed = not figures
        else:
            print("wrk is not installed, so the load tests cannot run. Install it with:\n"
                  "  apt-get install wrk", file=sys.stderr)
            failed = True
        for lessons, users in SQL_SCENARIOS:
            count = attempt(f"SQL count, {lessons} lessons", count_statements,
                            root / f"sql-{lessons}", lessons, users, args.timing_runs)
            if count is None:
                failed = True
            else:
                counts.append(count)
    print_summary(figures, counts)
    if failed:
        print("\nSome parts failed to run (see above).", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
