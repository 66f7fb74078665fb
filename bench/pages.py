"""Benchmark the lesson page: throughput under gunicorn over a mix of readers and lessons.

Run ``.venv/bin/python bench/pages.py`` (or ``make bench``) from the project root
(``--postgres`` runs it on a throwaway PostgreSQL server instead of SQLite). In one run it:

1. builds a throwaway data directory (a generated course of N lessons, an empty quizzes
   folder, a database, a secret key and M officers) and points the app at it through
   environment variables;
2. serves Waymark with gunicorn (sync workers), signs every officer in through the
   real /login form and loads the lesson pages with ``wrk`` and a generated Lua script:
   every request is a random lesson read by a random officer, as real readers do;
3. serves ``bench/minimal_app.py`` (a bare Flask app) with exactly the same gunicorn
   and wrk settings and the same script (its one path, the same cookies), as the baseline.
   The two runs alternate for ``--rounds`` rounds (3), and the median of the rounds'
   ratios is the result: on a shared machine one run can be 20 % off the next;
4. counts SQL statements for one lesson page in-process, for a small course with one
   user and a large course with 1,000 users;
5. prints a summary. The figures are reported, not asserted: the exit status is 1
   only when something failed to run. ``--profile N`` also profiles N in-process
   GETs over the same mix (cProfile) and prints the costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import io
import pstats
import random
import secrets
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ behind in the project
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402  (needs the project root on sys.path first)
    BenchError,
    Dataset,
    LoadResult,
    attempt,
    cookie_header,
    create_schema,
    csrf_token,
    dispose,
    environment,
    find_wrk,
    gunicorn,
    http,
    mix_script,
    plural,
    positive,
    remember_cookies,
    run_wrk_script,
    sign_in,
    throwaway_postgres,
)

OFFICER_EMAIL = "officer@bench.example"
OFFICER_PASSWORD = "bench-password-123"
COURSE_SLUG = "bench-course"
LESSON_BYTES = 20_000
TARGET_RATIO = 0.5
TARGET_STATEMENTS = 3
SQL_SCENARIOS = ((5, 1), (100, 1_000))  # (lessons in the course, users in the database)


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

def officer_email(number: int) -> str:
    """The address of bench officer ``number`` (1 is OFFICER_EMAIL)."""
    return OFFICER_EMAIL if number == 1 else f"officer{number}@bench.example"


def lesson_path(index: int) -> str:
    """The URL of lesson ``index``."""
    return f"/courses/{COURSE_SLUG}/{lesson_slug(index)}/"


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



def populate(dataset: Dataset, officers: int = 1):
    """Publish the course and create ``officers`` officers sharing one password.

    Returns the app, configured from the dataset's environment.
    """
    import sqlalchemy as sa

    from learning import create_app
    from learning.accounts.models import User
    from learning.accounts.service import get_or_create_agency, hash_password
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
        password_hash = hash_password(OFFICER_PASSWORD)  # argon2 once, not per officer
        db.session.execute(sa.insert(User), [
            {"email": officer_email(n), "display_name": f"Officer {n}", "role": "officer",
             "password_hash": password_hash, "agency_id": agency.id}
            for n in range(1, officers + 1)])
        db.session.commit()
    return app


def build_dataset(root: Path, lessons: int, officers: int = 1,
                  database_url: str | None = None):
    """Files, schema and rows for one scenario; returns the dataset and its app."""
    dataset = write_data_dir(root, lessons)
    if database_url:
        dataset.env["DATABASE_URL"] = database_url
    create_schema(dataset)
    return dataset, populate(dataset, officers)


def mark_some_complete(app, officers: int, lessons: int, seed: int = 7) -> int:
    """Give every officer a few completed lessons, so pages differ by reader; rows added."""
    import sqlalchemy as sa

    from learning.accounts.models import User
    from learning.catalogue.models import Course, Lesson
    from learning.extensions import db
    from learning.progress.models import LessonProgress

    chooser = random.Random(seed)
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == COURSE_SLUG))
        rows = db.session.execute(sa.select(Lesson.slug, Lesson.content_hash).where(
            Lesson.version_id == course.current_version_id)).all()
        users = db.session.scalars(sa.select(User.id).order_by(User.id).limit(officers)).all()
        values = [
            {"user_id": user_id, "course_id": course.id, "lesson_slug": slug,
             "version_id": course.current_version_id, "lesson_hash": content_hash}
            for user_id in users
            for slug, content_hash in chooser.sample(rows, len(rows) // 3)]
        if values:
            db.session.execute(sa.insert(LessonProgress), values)
        db.session.commit()
    return len(values)


# --------------------------------------------------------------------------- HTTP

def log_in(port: int, email: str = OFFICER_EMAIL) -> str:
    """Sign in through the real /login form, then open the course page as a browser would
    (the session gets its CSRF token there); returns the Cookie header to send."""
    jar = sign_in(port, email, OFFICER_PASSWORD)
    status, headers, _ = http(port, "GET", f"/courses/{COURSE_SLUG}/",
                              {"Cookie": cookie_header(jar)})
    if status != 200:
        raise BenchError(f"GET /courses/{COURSE_SLUG}/ answered {status} after signing in")
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


# --------------------------------------------------------------------------- the parts

def load_tests(root: Path, args: argparse.Namespace, wrk: str) -> dict:
    """Steps 1-3: the lesson pages and the minimal app under gunicorn and wrk."""
    figures: dict = {}
    if args.postgres:
        with throwaway_postgres("waymark_bench") as url:
            _load_tests(root, args, wrk, figures, url)
    else:
        _load_tests(root, args, wrk, figures, None)
    return figures


def _load_tests(root: Path, args: argparse.Namespace, wrk: str, figures: dict,
                database_url: str | None) -> None:
    backend = "PostgreSQL" if database_url else "SQLite"
    print(f"== Building a course of {args.lessons} lessons and {args.officers} officers "
          f"({backend}) in {root}")
    dataset, app = build_dataset(root, args.lessons, args.officers, database_url)
    try:
        rows = mark_some_complete(app, args.officers, args.lessons)
    finally:
        dispose(app)
    sizes = [p.stat().st_size for p in (root / "courses" / COURSE_SLUG).glob("lesson-*.md")]
    print(f"  lesson files: {min(sizes):,}-{max(sizes):,} bytes; {rows:,} completed lessons")
    paths = [lesson_path(i) for i in range(1, args.lessons + 1)]
    figures["backend"] = backend

    print(f"== Waymark under gunicorn (-c gunicorn.conf.py -k sync -w {args.workers}): "
          f"{args.lessons} lessons x {args.officers} officers, in random order; and the "
          f"minimal Flask app under the same gunicorn and wrk settings (GET /)")
    with ExitStack() as servers:
        port = servers.enter_context(gunicorn("learning:create_app()", dataset.env, args,
                                              root / "waymark.log", "/healthz"))
        minimal_port = servers.enter_context(gunicorn("minimal_app:app", dataset.env, args,
                                                      root / "minimal.log", "/"))
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            cookies = list(pool.map(lambda n: log_in(port, officer_email(n)),
                                    range(1, args.officers + 1)))
        print(f"  signed in {len(cookies)} officers in {time.perf_counter() - started:.1f} s")
        figures["size"], sets_cookie = check_lesson_page(port, dataset, cookies[0])
        if sets_cookie:
            print("  note: the lesson page sets a cookie on every request")
        warm_up(port, paths, cookies, args)
        warm_up(minimal_port, ["/"] * len(paths), cookies, args)
        # Alternate the two, so that a busier minute of a shared machine falls on both.
        rounds = []
        for number in range(1, args.rounds + 1):
            lesson = run_wrk_script(wrk, port, mix_script(paths, cookies),
                                    root / "lessons.lua", args, seed=number)
            describe(f"round {number}, lesson pages", lesson)
            minimal = run_wrk_script(wrk, minimal_port, mix_script(["/"], cookies),
                                     root / "minimal.lua", args, seed=number)
            describe(f"round {number}, minimal app", minimal)
            rounds.append((lesson, minimal))
        check_lesson_page(port, dataset, cookies[-1])  # still signed in after the runs
    figures["ratios"] = [lesson.requests_per_second / minimal.requests_per_second
                         for lesson, minimal in rounds]
    # The round whose ratio is the median stands for the run in the summary.
    figures["lesson"], figures["minimal"] = rounds[
        sorted(range(len(rounds)), key=figures["ratios"].__getitem__)[len(rounds) // 2]]


def warm_up(port: int, paths: list[str], cookies: list[str], args: argparse.Namespace) -> None:
    """Request every path 4 times per worker with different readers, before timing.

    A server that runs for days has every version's pages built; the first request of
    a lesson in each worker builds them (templates compiled, version caches filled),
    which a 10-second run would otherwise mostly measure.
    """
    requests = [(path, cookies[(n * 7 + k) % len(cookies)])
                for n, path in enumerate(paths) for k in range(4 * args.workers)]
    started = time.perf_counter()
    with ThreadPoolExecutor(args.connections) as pool:
        statuses = list(pool.map(lambda pair: http(port, "GET", pair[0],
                                                   {"Cookie": pair[1]})[0], requests))
    bad = len([s for s in statuses if s != 200])
    print(f"  warm-up: {len(requests):,} requests in {time.perf_counter() - started:.1f} s"
          + (f", {bad} not 200" if bad else ""))


def describe(label: str, result: LoadResult) -> None:
    """Print one load-test result and any answers that were not 200."""
    print(f"  {label}: {result.requests_per_second:,.1f} req/s, p50 {result.p50_ms:.2f} ms, "
          f"p99 {result.p99_ms:.2f} ms ({result.requests:,} requests)")
    others = {s: n for s, n in getattr(result, "statuses", {}).items() if s != 200}
    if others:
        print(f"    warning: answers other than 200: {others}")
    for error in result.errors:
        print(f"    warning: {error}")


def in_process_client(app, email: str = OFFICER_EMAIL):
    """A test client of ``app`` signed in as ``email`` through /login."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={
        "csrf_token": csrf_token(page), "email": email,
        "password": OFFICER_PASSWORD, "next": ""})
    if response.status_code != 302:
        raise BenchError(f"in-process sign-in answered {response.status_code}")
    return client


def count_statements(root: Path, lessons: int, users: int, timing_runs: int) -> dict:
    """Step 4: SQL statements (and in-process time) for one lesson GET, signed in."""
    import sqlalchemy as sa

    from learning.extensions import db

    print(f"== SQL per lesson page: {lessons} lessons, {plural(users, 'user')}")
    dataset, app = build_dataset(root, lessons, users)
    try:
        client = in_process_client(app)
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
        fast = app.extensions["waymark_lesson_fast_path"].served
        print(f"  {len(statements)} statements; in-process median {median:.2f} ms per GET; "
              f"{fast} of {timing_runs + 2} GETs answered by the fast path")
        return {"lessons": lessons, "users": users, "statements": len(statements),
                "ms": median}
    finally:
        dispose(app)



def profile_mix(root: Path, args: argparse.Namespace) -> None:
    """cProfile ``args.profile`` in-process GETs over a mix of officers and lessons."""
    officers = min(args.officers, 20)
    print(f"== Profile: {args.profile} GETs, {args.lessons} lessons x {officers} officers")
    dataset, app = build_dataset(root, args.lessons, officers)
    try:
        mark_some_complete(app, officers, args.lessons)
        clients = [in_process_client(app, officer_email(n)) for n in range(1, officers + 1)]
        chooser = random.Random(3)
        paths = [lesson_path(i) for i in range(1, args.lessons + 1)]
        for path in paths:  # warm-up: templates compiled, every version cache filled
            clients[0].get(path)
        requests = [(chooser.choice(clients), chooser.choice(paths))
                    for _ in range(args.profile)]
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for client, path in requests:
            client.get(path)
        profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"  {elapsed / args.profile * 1000:.2f} ms per GET under the profiler")
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        print(out.getvalue())
    finally:
        dispose(app)


# --------------------------------------------------------------------------- report

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
            row(f"{label}: requests/s (the median round)", f"{result.requests_per_second:,.1f}")
            row(f"{label}: p50 / p99 latency",
                f"{result.p50_ms:.2f} / {result.p99_ms:.2f} ms")
        else:
            row(f"{label}: requests/s", "-")
    if lesson and minimal:
        ratios = figures["ratios"]
        ratio = statistics.median(ratios)
        spread = f" ({min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else ""
        row(f"ratio lesson / minimal, median of {plural(len(ratios), 'round')}",
            f"{ratio:.2f}{spread}", f">= {TARGET_RATIO}",
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=positive, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--rounds", type=positive, default=3,
                        help="alternating lesson / minimal runs; the median ratio counts (3)")
    parser.add_argument("--workers", type=positive, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--threads", type=positive, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=positive, default=16, help="wrk connections (16)")
    parser.add_argument("--lessons", type=positive, default=100,
                        help="lessons in the load-test course (100)")
    parser.add_argument("--officers", type=positive, default=200,
                        help="signed-in officers whose cookies the load cycles through (200)")
    parser.add_argument("--postgres", action="store_true",
                        help="run the load test on a throwaway PostgreSQL server")
    parser.add_argument("--timing-runs", type=positive, default=50,
                        help="in-process GETs timed per SQL scenario (50)")
    parser.add_argument("--skip-sql", action="store_true", help="skip the SQL counts")
    parser.add_argument("--skip-load", action="store_true", help="skip the load test")
    parser.add_argument("--profile", type=int, default=0,
                        help="also profile this many in-process GETs over the mix (0)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every part; report what could be measured; 1 if anything failed to run."""
    args = parse_args(argv)
    failed = False
    figures: dict = {}
    counts: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="waymark-bench-") as tmp:
        root = Path(tmp)
        wrk = find_wrk()
        if args.skip_load:
            pass
        elif wrk:
            figures = attempt("load test", load_tests, root / "load", args, wrk) or {}
            failed = not figures
        else:
            print("wrk is not installed, so the load tests cannot run. Install it with:\n"
                  "  apt-get install wrk", file=sys.stderr)
            failed = True
        for lessons, users in () if args.skip_sql else SQL_SCENARIOS:
            count = attempt(f"SQL count, {lessons} lessons", count_statements,
                            root / f"sql-{lessons}", lessons, users, args.timing_runs)
            if count is None:
                failed = True
            else:
                counts.append(count)
        if args.profile:
            failed = attempt("profile", profile_mix, root / "profile", args) is False or failed
    print_summary(figures, counts)
    if failed:
        print("\nSome parts failed to run (see above).", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
