"""Benchmark the compliance page, its CSV export and the dashboard at 2,000 and 100,000 officers.

Run ``.venv/bin/python bench/agency.py`` from the project root (``--postgres`` to
measure on a throwaway PostgreSQL server too). In one run it:

1. builds a throwaway data directory: ten small generated courses (published with
   ``sync_catalogue``), a SQLite database (``flask db upgrade``), one agency with 50
   units and a manager, and ten assignments targeting every unit, with a mix of due
   dates and recurrences;
2. adds 2,000 officers in bulk (one precomputed password hash) with a realistic mix
   of progress: lesson progress on about half of the (officer, course) pairs, a
   completion and a certificate on about 30% (some expired, some expiring, a few
   revoked), all inserted directly, then brings the compliance state up to date for
   them (``compliance_state.refresh_users``, as a commit would; not timed);
3. signs in as the manager with the Flask test client and measures, in-process,
   ``GET /agency/`` (time and SQL statements) and ``GET /agency/export.csv`` read as a
   stream (time, rows, bytes, and peak Python memory with ``tracemalloc``), with the
   time each GET spent inside ``cursor.execute`` and in the cyclic GC, the slowest
   statements, ``compliance.page_view`` / ``compliance.stream`` timed alone, to
   tell where the time goes, and ``GET /agency/dashboard``. If the export breaks off
   when nothing outside the request holds an app context (as under gunicorn), it
   says so (APP BUG) and measures it inside one, as the test suite's requests run;
4. grows the same agency to 100,000 officers (``--large``) and measures again;
5. prints a summary with the ratios 100,000 / 2,000: the page's time (target at most
   1.5), its SQL statements (equal) and the export's peak memory (flat). The figures
   are reported, not asserted: the exit status is 1 only when something failed to run.

Its helpers stay in this file; the shared ones come from ``bench/pages.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ behind in the project
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.certificates import holder_name  # noqa: E402
from bench.common import (  # noqa: E402  (needs the project root on sys.path first)
    BenchError,
    Dataset,
    attempt,
    create_schema,
    csrf_token,
    dispose,
    environment,
    plural,
    positive,
)

MANAGER_EMAIL = "manager@bench.example"
MANAGER_PASSWORD = "bench-password-123"
UNITS = 50
BATCH = 2_000  # officers generated and inserted per round trip
SEED = 20_260_101
CERTIFIED = 0.30  # share of (officer, course) pairs with a completion and a certificate
STARTED = 0.50  # share with some lesson progress (the certified ones included)
REVOKED = 0.02  # share of certificates revoked
TARGET_TIME_RATIO = 1.5  # the page costs the same whatever the agency's size
TARGET_EXPORT_RATIO = 60.0  # 50x the rows: no worse than linear
TARGET_MEMORY_RATIO = 1.5  # export memory "about the same" at both sizes

PLACES = ["Harbour Gate", "North Bridge", "Airport", "Rail Terminal", "Ferry Quay",
          "Mountain Pass", "River Crossing", "East Motorway", "Free Port", "Old Town"]
UNIT_KINDS = [("Post", "post"), ("Station", "station"), ("Office", "office"),
              ("Team", "unit"), ("Annex", "post")]
TOPICS = ["Document fraud", "Identifying victims", "Interviewing travellers",
          "Children on the move", "Smuggling and trafficking", "Referral pathways",
          "Data protection", "Vehicle inspection", "Working with interpreters",
          "Use of force"]
VALIDITY = [24, 12, 36, None, 24, 12, 24, None, 36, 24]  # certificate months per course
# Per course: due in N days (negative: already past), recurrence, every N months.
ASSIGNMENTS = [(-180, "none", None), (-30, "months", 12), (30, "on_expiry", None),
               (120, "none", None), (-365, "months", 24), (60, "on_expiry", None),
               (365, "none", None), (-90, "on_expiry", None), (14, "months", 36),
               (-10, "none", None)]
LESSONS = ("introduction", "in-practice")
SLOWEST = 2  # statements listed per GET, by time inside cursor.execute
STATEMENT_TEXT = 88  # characters of each listed statement
ROW_COUNT = re.compile(rb"\((\d+) [^)]*\)</span></h2>")  # the page's "(N assignments)"


@dataclass
class Agency:
    """Ids the generator and the measures need."""

    agency_id: int
    manager_id: int
    unit_ids: list[int]
    courses: list[dict]  # id, slug, title, version_id, number, hash, validity, lessons
    officers: int = 0


@dataclass
class Size:
    """Everything measured at one agency size."""

    officers: int
    build_s: float
    page_ms: list[float] = field(default_factory=list)
    page_statements: int = 0
    page_bytes: int = 0
    page_rows: int | None = None
    page_sql_ms: float = 0.0  # inside cursor.execute, during one GET
    page_gc_ms: float = 0.0  # in the cyclic garbage collector, during one GET
    page_view_ms: float = 0.0
    dashboard_ms: list[float] = field(default_factory=list)
    dashboard_statements: int = 0
    dashboard_sql_ms: float = 0.0
    export_ms: list[float] = field(default_factory=list)
    export_first_row_ms: float = 0.0
    export_rows: int = 0
    export_bytes: int = 0
    export_statements: int = 0
    export_peak_bytes: int = 0
    export_sql_ms: float = 0.0
    export_gc_ms: float = 0.0
    stream_ms: float = 0.0
    export_error: str | None = None  # why it broke off without an outer app context
    states: Counter = field(default_factory=Counter)

    @property
    def pairs(self) -> int:
        return self.officers * len(ASSIGNMENTS)


# --------------------------------------------------------------------------- content

def course_slug(index: int) -> str:
    """The folder name of generated course ``index`` (0-based)."""
    return f"agency-course-{index + 1:02d}"


def write_courses(courses_dir: Path) -> None:
    """Ten tiny courses in the course format (courses/README.md), two lessons each."""
    for index, topic in enumerate(TOPICS):
        folder = courses_dir / course_slug(index)
        folder.mkdir(parents=True)
        validity = VALIDITY[index]
        months = f"certificate_validity_months: {validity}\n" if validity else ""
        (folder / "course.md").write_text(f"""---
title: "{topic}"
summary: A generated course used by bench/agency.py.
audience: [First-line border officers]
objectives:
  - Apply what the course teaches about {topic.lower()} at the border.
pass_mark: 80
{months}sources:
  - "Bench source, 2026."
modules:
  - title: The course
    lessons: [{", ".join(LESSONS)}]
---
An overview of [the first lesson]({LESSONS[0]}.md).
""", encoding="utf-8")
        for number, slug in enumerate(LESSONS, start=1):
            (folder / f"{slug}.md").write_text(f"""---
title: "{topic}: part {number}"
estimated_minutes: 5
sources: ["Bench source {number}, 2026."]
---
## What to do

A short lesson on {topic.lower()}.
""", encoding="utf-8")


def write_data_dir(root: Path, database_url: str | None) -> Dataset:
    """The ten courses, an empty quizzes folder and the environment the app reads."""
    write_courses(root / "courses")
    (root / "quizzes").mkdir()
    env = {
        "DATABASE_URL": database_url or f"sqlite:///{root / 'waymark.sqlite'}",
        "WAYMARK_COURSES_DIR": str(root / "courses"),
        "WAYMARK_QUIZZES_DIR": str(root / "quizzes"),
        "WAYMARK_SECRET_KEY": secrets.token_urlsafe(48),
        "WAYMARK_REQUIRE_MFA": "0",  # the bench manager signs in with a password only
        "WAYMARK_BASE_URL": "http://127.0.0.1",
        "FLASK_APP": "learning",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return Dataset(root, env, "/agency/", "Compliance")


# --------------------------------------------------------------------------- data

def build_agency(dataset: Dataset):
    """Publish the courses; create the agency, units, manager and assignments; the app too."""
    import sqlalchemy as sa

    from learning import create_app
    from learning.accounts.models import Unit
    from learning.accounts.service import create_user, get_or_create_agency
    from learning.agency.models import Assignment, AssignmentTarget
    from learning.catalogue.models import Course, CourseVersion, Lesson
    from learning.catalogue.service import sync_catalogue
    from learning.extensions import db
    from learning.timeutil import utcnow

    with environment(dataset.env):
        app = create_app()
    with app.app_context():
        db.create_all()  # tables of models whose migration is not written yet, if any
        report = sync_catalogue(Path(dataset.env["WAYMARK_COURSES_DIR"]),
                                Path(dataset.env["WAYMARK_QUIZZES_DIR"]))
        if not report.ok or len(report.created) != len(TOPICS):
            problems = "\n".join(map(str, report.problems))
            raise BenchError(f"the generated courses did not publish:\n{problems}")
        agency = get_or_create_agency("Bench Border Agency", "bench-border-agency")
        units = sa.insert(Unit.__table__).returning(Unit.__table__.c.id,
                                                    sort_by_parameter_order=True)
        unit_ids = list(db.session.execute(units, [
            {"agency_id": agency.id, "name": f"{PLACES[n % 10]} {UNIT_KINDS[n // 10][0]}",
             "kind": UNIT_KINDS[n // 10][1]} for n in range(UNITS)]).scalars())
        manager = create_user(MANAGER_EMAIL, "Bench Manager", MANAGER_PASSWORD, "manager",
                              agency)
        courses = []
        for index in range(len(TOPICS)):
            course, version = db.session.execute(
                sa.select(Course, CourseVersion)
                .join(CourseVersion, CourseVersion.id == Course.current_version_id)
                .where(Course.slug == course_slug(index))).one()
            lessons = db.session.execute(
                sa.select(Lesson.slug, Lesson.content_hash)
                .where(Lesson.version_id == version.id).order_by(Lesson.position)).all()
            courses.append({"id": course.id, "slug": course.slug, "title": version.title,
                            "version_id": version.id, "number": version.number,
                            "hash": version.content_hash,
                            "validity": version.certificate_validity_months,
                            "lessons": [tuple(lesson) for lesson in lessons]})
        today = utcnow().date()
        assignments = sa.insert(Assignment.__table__).returning(
            Assignment.__table__.c.id, sort_by_parameter_order=True)
        assignment_ids = list(db.session.execute(assignments, [
            {"agency_id": agency.id, "course_id": course["id"],
             "due_on": today + timedelta(days=days), "recurrence": recurrence,
             "every_months": months, "created_by": manager.id}
            for course, (days, recurrence, months) in zip(courses, ASSIGNMENTS, strict=True)
        ]).scalars())
        db.session.execute(sa.insert(AssignmentTarget.__table__), [
            {"assignment_id": assignment_id, "unit_id": unit_id}
            for assignment_id in assignment_ids for unit_id in unit_ids])
        db.session.commit()
        found = Agency(agency.id, manager.id, unit_ids, courses)
        db.session.remove()
    return app, found


def add_officers(app, agency: Agency, count: int) -> None:
    """``count`` more officers, in every unit in turn, with their progress and certificates.

    Each (officer, course) pair is drawn once: about 30% completed (both lessons read,
    a Completion and a Certificate issued up to 900 days ago, so some have expired and
    some expire soon; 2% of them revoked), 20% more in progress (one lesson read), the
    rest not started. Everything goes in with multi-row Core inserts.
    """
    import sqlalchemy as sa

    from learning.accounts.models import User
    from learning.accounts.service import hash_password
    from learning.agency.compliance_state import refresh_users
    from learning.certificates.dates import add_months
    from learning.certificates.models import Certificate, Completion
    from learning.extensions import db
    from learning.progress.models import LessonProgress
    from learning.timeutil import utcnow

    users = User.__table__
    completions = Completion.__table__
    with app.app_context():
        password_hash = hash_password(MANAGER_PASSWORD)  # argon2 once, not per officer
        now = utcnow()
        for first in range(agency.officers, agency.officers + count, BATCH):
            numbers = range(first, min(first + BATCH, agency.officers + count))
            rng = random.Random(SEED + first)
            names = [holder_name(n)[0] for n in numbers]
            user_ids = list(db.session.execute(
                sa.insert(users).returning(users.c.id, sort_by_parameter_order=True),
                [{"email": f"officer{n}@bench.example", "display_name": name,
                  "role": "officer", "password_hash": password_hash,
                  "agency_id": agency.agency_id, "unit_id": agency.unit_ids[n % UNITS]}
                 for n, name in zip(numbers, names, strict=True)]).scalars())
            progress, done = [], []
            for user_id, name in zip(user_ids, names, strict=True):
                for course in agency.courses:
                    draw = rng.random()
                    if draw >= STARTED:
                        continue
                    read = course["lessons"] if draw < CERTIFIED else course["lessons"][:1]
                    completed_at = now - timedelta(days=rng.randint(1, 900),
                                                   minutes=rng.randint(0, 600))
                    progress += [{"user_id": user_id, "course_id": course["id"],
                                  "lesson_slug": slug, "version_id": course["version_id"],
                                  "lesson_hash": lesson_hash, "completed_at": completed_at}
                                 for slug, lesson_hash in read]
                    if draw < CERTIFIED:
                        done.append((user_id, name, course, completed_at,
                                     rng.randint(80, 100), rng.random() < REVOKED))
            db.session.execute(sa.insert(LessonProgress.__table__), progress)
            completion_ids = db.session.execute(
                sa.insert(completions).returning(completions.c.id,
                                                 sort_by_parameter_order=True),
                [{"user_id": user_id, "course_id": course["id"],
                  "version_id": course["version_id"], "cycle": 0, "completed_at": at,
                  "score": score} for user_id, _, course, at, score, _ in done]).scalars()
            certificates = []
            for completion_id, (user_id, name, course, at, score, revoked) in zip(
                    completion_ids, done, strict=True):
                issued = at.date()
                months = course["validity"]
                certificates.append({
                    "code": f"{rng.getrandbits(128):032x}", "completion_id": completion_id,
                    "user_id": user_id, "course_id": course["id"],
                    "version_id": course["version_id"], "holder_name": name,
                    "course_slug": course["slug"], "course_title": course["title"],
                    "version_number": course["number"], "content_hash": course["hash"],
                    "score": score, "issued_on": issued,
                    "expires_on": add_months(issued, months) if months else None,
                    "revoked_at": now if revoked else None,
                    "revoked_reason": "Issued in error (bench)" if revoked else None})
            db.session.execute(sa.insert(Certificate.__table__), certificates)
            # Core inserts skip the session's bookkeeping: bring the state up to date as a
            # commit through the ORM would (generation, not measured).
            refresh_users(db.session, user_ids, app.config["EXPIRING_WITHIN_DAYS"])
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))  # what autovacuum would soon do
            db.session.commit()
        db.session.remove()
    agency.officers += count


# --------------------------------------------------------------------------- measures

class Counters:
    """SQL statements, time inside ``cursor.execute`` and time in the cyclic GC while active.

    Statements come from a ``before_cursor_execute`` listener on the engine. The
    execute time leaves out fetching the rows, so it is a floor for the SQL's cost.
    The GC time comes from ``gc.callbacks``: collections of every generation.
    """

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements = 0
        self.execute_s = 0.0
        self.gc_s = 0.0
        self.gc_full = 0  # generation-2 collections, which walk every live object
        self.by_statement: dict[str, list] = {}  # text -> [count, seconds]
        self._started: list[float] = []
        self._gc_started = 0.0

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements += 1
        self._started.append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        seconds = time.perf_counter() - self._started.pop()
        self.execute_s += seconds
        entry = self.by_statement.setdefault(" ".join(statement.split())[:STATEMENT_TEXT],
                                             [0, 0.0])
        entry[0] += 1
        entry[1] += seconds

    def _collect(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_s += time.perf_counter() - self._gc_started
            self.gc_full += info["generation"] == 2

    def __enter__(self) -> Counters:
        import sqlalchemy as sa

        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        gc.callbacks.append(self._collect)
        return self

    def __exit__(self, *exc) -> None:
        import sqlalchemy as sa

        gc.callbacks.remove(self._collect)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)
        sa.event.remove(self.engine, "before_cursor_execute", self._before)


def signed_in_client(app):
    """A test client signed in as the manager through the real /login form."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={
        "csrf_token": csrf_token(page), "email": MANAGER_EMAIL,
        "password": MANAGER_PASSWORD, "next": ""})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise BenchError(f"signing in as the manager answered {response.status_code}")
    return client


def get_page(client) -> tuple[float, bytes]:
    """One GET /agency/: (milliseconds, body); fails unless it answers 200."""
    start = time.perf_counter()
    response = client.get("/agency/")
    body = response.get_data()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise BenchError(f"GET /agency/ answered {response.status_code}")
    return elapsed, body


def get_export(client, outer_context=None) -> tuple[float, float, int, int]:
    """GET /agency/export.csv read chunk by chunk, as a browser would download it.

    Returns (total ms, ms to the first data row, data rows, bytes). Nothing is kept:
    each chunk is counted and dropped. With ``outer_context`` (the app), the request
    runs inside an app context pushed around it, as the test suite's requests do.
    """
    from contextlib import nullcontext

    from learning.extensions import db

    start = time.perf_counter()
    with outer_context.app_context() if outer_context else nullcontext():
        response = client.get("/agency/export.csv")  # not buffered: the app's iterator
        try:
            if response.status_code != 200:
                raise BenchError(f"GET /agency/export.csv answered {response.status_code}")
            lines = size = 0
            first_row = 0.0
            for chunk in response.response:
                size += len(chunk)
                lines += chunk.count(b"\n")
                if not first_row and lines > 1:
                    first_row = (time.perf_counter() - start) * 1000
        finally:
            response.close()  # ends the streamed request context
            if outer_context:
                db.session.remove()
    return (time.perf_counter() - start) * 1000, first_row, lines - 1, size


def export_fails_alone(client) -> str | None:
    """Why the export breaks off when nothing outside the request holds an app context.

    ``export_csv`` commits the audit entry, which expires ``current_user``; the view
    then returns, Flask pops the request's app context and Flask-SQLAlchemy removes
    the session, before the server reads the streamed body. ``stream_with_context``
    pushes the same contexts again, but ``current_user`` (kept in ``g``) now belongs
    to no session, so reading ``viewer.agency_id`` raises DetachedInstanceError after
    the header line. Under gunicorn the download ends there (IncompleteRead). The
    test suite does not see it: its fixtures hold an app context around requests.
    Returns None when the export streams to the end on its own.
    """
    try:
        get_export(client)
    except BenchError:
        raise
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
    return None


def breakdown(app, agency: Agency, size: Size) -> None:
    """compliance.page_view and compliance.stream alone, to tell where a page's time goes."""
    from learning.accounts.models import User
    from learning.agency import compliance
    from learning.extensions import db
    from learning.timeutil import utcnow

    with app.app_context():
        manager = db.session.get(User, agency.manager_id)
        today, window = utcnow().date(), app.config["EXPIRING_WITHIN_DAYS"]
        gc.collect()
        start = time.perf_counter()
        compliance.page_view(manager, today, window, compliance.Filters(), 1, 50)
        size.page_view_ms = (time.perf_counter() - start) * 1000
        gc.collect()
        start = time.perf_counter()
        for row in compliance.stream(manager, today, window):
            size.states[row.state] += 1
        size.stream_ms = (time.perf_counter() - start) * 1000
        db.session.remove()


def describe_sql(counter: Counters) -> None:
    """Print the statements that spent the most time inside cursor.execute."""
    ranked = sorted(counter.by_statement.items(), key=lambda item: -item[1][1])
    for text, (count, seconds) in ranked[:SLOWEST]:
        print(f"    {seconds * 1000:>7,.0f} ms in {count:>3} x {text}")


def measure(app, client, agency: Agency, size: Size, runs: int, export_runs: int) -> None:
    """The page and the export at the agency's current size, filling ``size``.

    Every timed GET starts right after ``gc.collect()``, so each run meets the
    collector in the same state; the first run of each is also counted (Counters).
    """
    from learning.extensions import db

    with app.app_context():
        engine = db.engine
    get_page(client)  # warm-up: templates compiled, caches filled
    for run in range(runs):
        gc.collect()
        if run == 0:
            with Counters(engine) as page:
                elapsed, body = get_page(client)
        else:
            elapsed = get_page(client)[0]
        size.page_ms.append(elapsed)
    size.page_statements, size.page_bytes = page.statements, len(body)
    size.page_sql_ms, size.page_gc_ms = page.execute_s * 1000, page.gc_s * 1000
    match = ROW_COUNT.search(body)
    size.page_rows = int(match.group(1)) if match else None
    print(f"  GET /agency/: median {statistics.median(size.page_ms):,.0f} ms of "
          f"{plural(runs, 'run')}; {size.page_statements} SQL statements, "
          f"{size.page_bytes:,} bytes, {size.page_rows} rows counted; one GET spent "
          f"{size.page_sql_ms:,.0f} ms inside cursor.execute and {size.page_gc_ms:,.0f} ms "
          f"in the GC ({page.gc_full} full collections)")
    describe_sql(page)

    size.export_error = export_fails_alone(client)
    outer = None
    if size.export_error:
        outer = app
        print(f"  APP BUG: GET /agency/export.csv breaks off after the header line "
              f"({size.export_error}); measuring it again inside an app context pushed "
              "around the request, as the test suite does")
    for run in range(export_runs):
        gc.collect()
        if run == 0:
            with Counters(engine) as export:
                total, first_row, rows, produced = get_export(client, outer)
        else:
            total = get_export(client, outer)[0]
        size.export_ms.append(total)
    size.export_first_row_ms, size.export_rows, size.export_bytes = first_row, rows, produced
    size.export_statements = export.statements
    size.export_sql_ms, size.export_gc_ms = export.execute_s * 1000, export.gc_s * 1000
    gc.collect()
    tracemalloc.start()
    try:
        traced_rows = get_export(client, outer)[2]
        size.export_peak_bytes = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if traced_rows != rows:
        raise BenchError(f"the traced export had {traced_rows} rows, the first {rows}")
    print(f"  GET /agency/export.csv: median {statistics.median(size.export_ms):,.0f} ms of "
          f"{plural(export_runs, 'run')}, first row after {first_row:,.0f} ms; {rows:,} rows, "
          f"{produced:,} bytes, {size.export_statements} SQL statements, peak Python memory "
          f"{size.export_peak_bytes / 2**20:.2f} MiB; one GET spent "
          f"{size.export_sql_ms:,.0f} ms inside cursor.execute and "
          f"{size.export_gc_ms:,.0f} ms in the GC ({export.gc_full} full collections)")
    describe_sql(export)

    measure_dashboard(client, engine, size, runs)
    breakdown(app, agency, size)
    print(f"  in-process, alone: compliance.page_view {size.page_view_ms:,.0f} ms, "
          f"compliance.stream {size.stream_ms:,.0f} ms")
    print("  states: " + ", ".join(f"{state} {size.states[state]:,}"
                                   for state in sorted(size.states)))


def measure_dashboard(client, engine, size: Size, runs: int) -> None:
    """GET /agency/dashboard: median time and SQL statements (the first timed run)."""
    for run in range(runs + 1):  # the first is a warm-up
        gc.collect()
        with Counters(engine) as counter:
            start = time.perf_counter()
            response = client.get("/agency/dashboard")
            response.get_data()
            elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise BenchError(f"GET /agency/dashboard answered {response.status_code}")
        if run:
            size.dashboard_ms.append(elapsed)
        if run == 1:
            size.dashboard_statements = counter.statements
            size.dashboard_sql_ms = counter.execute_s * 1000
            slowest = counter
    print(f"  GET /agency/dashboard: median {statistics.median(size.dashboard_ms):,.0f} ms of "
          f"{plural(runs, 'run')}; {size.dashboard_statements} SQL statements, "
          f"{size.dashboard_sql_ms:,.0f} ms inside cursor.execute; slowest:")
    describe_sql(slowest)


def profile(client, top: int, outer_context=None) -> None:
    """cProfile one page GET and one export; print the functions that took the most time."""
    for label, call in (("GET /agency/", lambda: get_page(client)),
                        ("GET /agency/export.csv", lambda: get_export(client, outer_context))):
        profiler = cProfile.Profile()
        profiler.enable()
        call()
        profiler.disable()
        print(f"  -- profile of {label} (own time, top {top})")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(top)


# --------------------------------------------------------------------------- the parts

def run_backend(root: Path, args: argparse.Namespace, label: str, sizes: list[Size],
                database_url: str | None = None) -> None:
    """Build the agency, measure at the small size, grow it, measure at the large size."""
    print(f"== {label}: ten courses, {UNITS} units, ten assignments in {root}")
    dataset = write_data_dir(root, database_url)
    create_schema(dataset)
    app, agency = build_agency(dataset)
    try:
        client = signed_in_client(app)
        for officers in (args.small, args.large):
            started = time.perf_counter()
            add_officers(app, agency, officers - agency.officers)
            size = Size(officers, time.perf_counter() - started)
            print(f"== {label}, {officers:,} officers ({size.pairs:,} assigned pairs; "
                  f"added in {size.build_s:.1f} s)")
            measure(app, client, agency, size, args.runs, args.export_runs)
            sizes.append(size)
            check(size)
        if args.profile:
            profile(client, args.profile, app if sizes[-1].export_error else None)
    finally:
        dispose(app)


def check(size: Size) -> None:
    """Every assigned pair on the page and in the export, no more, no less."""
    if size.page_rows != size.pairs:
        print(f"  warning: the page counts {size.page_rows} rows, expected {size.pairs:,}")
    if size.export_rows != size.pairs:
        print(f"  warning: the export has {size.export_rows:,} rows, expected {size.pairs:,}")


def postgres_backend(root: Path, args: argparse.Namespace, sizes: list[Size]) -> None:
    """The same measures on a throwaway PostgreSQL server (tests/pgserver.py)."""
    from tests.pgserver import ThrowawayPostgres

    server = ThrowawayPostgres()
    try:
        server.start()
        run_backend(root, args, "PostgreSQL", sizes, server.create_database("waymark_bench"))
    finally:
        server.stop()


# --------------------------------------------------------------------------- report

def print_summary(label: str, sizes: list[Size]) -> None:
    """The summary table of one backend: both sizes side by side, with the ratios."""
    def row(name: str, values: list[str], ratio: str = "", target: str = "",
            verdict: str = "") -> None:
        print(f"  {name:<42} " + " ".join(f"{v:>13}" for v in values)
              + f" {ratio:>7}  {target:<7} {verdict}")

    print(f"\n== Summary ({label})")
    if not sizes:
        print("  nothing was measured")
        return
    row("measure", [f"{s.officers:,} off." for s in sizes], "ratio", "target")
    row("-" * 42, ["-" * 13] * len(sizes), "-" * 7, "-" * 7)
    pair = len(sizes) == 2

    def compare(name: str, values: list[float], fmt: str, target: float | None = None,
                bad: str = "", equal: bool = False) -> None:
        shown = [fmt.format(v) for v in values]
        if not pair:
            row(name, shown)
            return
        if equal:
            same = values[0] == values[1]
            row(name, shown, "", "equal", "ok" if same else bad)
            return
        ratio = values[1] / values[0] if values[0] else float("inf")
        if target is None:
            row(name, shown, f"{ratio:.2f}")
        else:
            row(name, shown, f"{ratio:.2f}", f"<= {target:g}", "ok" if ratio <= target else bad)

    median = statistics.median
    compare("page GET /agency/: median time (ms)", [median(s.page_ms) for s in sizes],
            "{:,.0f}", TARGET_TIME_RATIO, "SUPERLINEAR")
    compare("page: SQL statements", [s.page_statements for s in sizes], "{}",
            bad="GROWS WITH DATA", equal=True)
    compare("page: rows counted (expected 10 x officers)",
            [s.page_rows or 0 for s in sizes], "{:,}")
    compare("page: response body (bytes)", [s.page_bytes for s in sizes], "{:,}")
    compare("  of which compliance.page_view (ms)", [s.page_view_ms for s in sizes],
            "{:,.0f}")
    compare("  of one GET: inside cursor.execute (ms)", [s.page_sql_ms for s in sizes],
            "{:,.0f}")
    compare("  of one GET: cyclic GC (ms)", [s.page_gc_ms for s in sizes], "{:,.0f}")
    compare("export GET /agency/export.csv: time (ms)", [median(s.export_ms) for s in sizes],
            "{:,.0f}", TARGET_EXPORT_RATIO, "SUPERLINEAR")
    compare("export: first data row after (ms)", [s.export_first_row_ms for s in sizes],
            "{:,.0f}")
    compare("export: rows", [s.export_rows for s in sizes], "{:,}")
    compare("export: bytes", [s.export_bytes for s in sizes], "{:,}")
    compare("export: peak Python memory (MiB)", [s.export_peak_bytes / 2**20 for s in sizes],
            "{:.2f}", TARGET_MEMORY_RATIO, "GROWS WITH ROWS")
    compare("export: SQL statements (one pair per chunk)",
            [s.export_statements for s in sizes], "{}")
    compare("  of which compliance.stream (ms)", [s.stream_ms for s in sizes], "{:,.0f}")
    compare("  of one GET: inside cursor.execute (ms)", [s.export_sql_ms for s in sizes],
            "{:,.0f}")
    compare("  of one GET: cyclic GC (ms)", [s.export_gc_ms for s in sizes], "{:,.0f}")
    row("export streams without an outer app context",
        ["no" if s.export_error else "yes" for s in sizes], "", "yes",
        "APP BUG" if any(s.export_error for s in sizes) else "ok")
    compare("dashboard GET /agency/dashboard: median (ms)",
            [median(s.dashboard_ms) for s in sizes], "{:,.0f}", TARGET_TIME_RATIO,
            "SUPERLINEAR")
    compare("dashboard: SQL statements", [s.dashboard_statements for s in sizes], "{}",
            bad="GROWS WITH DATA", equal=True)
    compare("  of one GET: inside cursor.execute (ms)", [s.dashboard_sql_ms for s in sizes],
            "{:,.0f}")
    compare("data: officers added (s)", [s.build_s for s in sizes], "{:.1f}")
    for size in sizes:
        if size.page_rows != size.pairs or size.export_rows != size.pairs:
            row(f"rows at {size.officers:,} officers", [f"{size.pairs:,} expected"], "", "",
                "MISMATCH")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=positive, default=2_000,
                        help="officers at the first measure (2000)")
    parser.add_argument("--large", type=positive, default=100_000,
                        help="officers at the second measure (100000)")
    parser.add_argument("--runs", type=positive, default=5,
                        help="timed GETs of the page and of the export per size (5)")
    parser.add_argument("--export-runs", type=positive, default=1,
                        help="timed GETs of the export and of the dashboard per size (1)")
    parser.add_argument("--postgres", action="store_true",
                        help="measure on a throwaway PostgreSQL server too")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="after the large size, profile one page and one export and "
                        "print the N functions taking the most time (0: no profile)")
    args = parser.parse_args(argv)
    if args.large <= args.small:
        parser.error("--large must be more than --small")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every part; report what could be measured; 1 if anything failed to run."""
    args = parse_args(argv)
    started = time.perf_counter()
    results: dict[str, list[Size]] = {"SQLite": []}
    with tempfile.TemporaryDirectory(prefix="waymark-bench-") as tmp:
        root = Path(tmp)
        attempt("SQLite", run_backend, root / "sqlite", args, "SQLite", results["SQLite"])
        if args.postgres:
            results["PostgreSQL"] = []
            attempt("PostgreSQL", postgres_backend, root / "postgres", args,
                    results["PostgreSQL"])
    for label, sizes in results.items():
        print_summary(label, sizes)
    print(f"\nWhole run: {time.perf_counter() - started:.0f} s")
    failed = any(len(sizes) < 2 for sizes in results.values())
    if failed:
        print("\nSome parts failed to run (see above).", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
