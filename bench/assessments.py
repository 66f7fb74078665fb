"""Benchmark taking an assessment: answer saves and submits under gunicorn, and their safety.

Run ``.venv/bin/python bench/assessments.py`` from the project root (``--postgres``
runs everything again on a throwaway PostgreSQL server). In one run it:

1. builds a throwaway data directory with the test fixture course (``field-basics``)
   whose final assessment is made repeatable (no attempt limit, no waiting time, no
   time limit), a SQLite database and N officers sharing one precomputed password hash;
2. serves Waymark with gunicorn (the settings of bench/pages.py), signs every officer
   in through the real /login form and starts one attempt each;
3. loads the autosave endpoint with ``wrk`` and a generated Lua script that cycles
   through the officers' cookies and attempts (form-encoded, ``Accept: application/json``);
4. submits attempts in rounds: every officer starts an attempt (not timed), then all
   the attempts are submitted, each once (timed), until the timed total reaches the
   duration;
5. loads ``bench/minimal_app.py`` (served beside it the whole time) with the same
   Python load generator and concurrency for as long; steps 4 and 5 are repeated
   (``--rounds``, 3) and the median round's ratio is reported, as the machine's speed
   drifts between runs; then the minimal app with wrk, like the saves, for comparison;
6. races submits: for each of 200 attempts, 8 threads submit at once (a barrier)
   while 4 more keep saving, then reads the database and counts attempts graded more
   than once, left open, lost saves, saves accepted after submission and 5xx answers;
   with ``--postgres`` the same again on a throwaway PostgreSQL server;
7. prints a summary. The figures are reported, not asserted: the exit status is 1
   only when something failed to run.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

sys.dont_write_bytecode = True  # leave no __pycache__ behind in the project
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402  (needs the project root on sys.path first)
    FORM,
    LUA_STATUSES,
    PROJECT_ROOT,
    USER_AGENT,
    BenchError,
    Dataset,
    Load,
    Reply,
    attempt,
    build_request,
    cookie_header,
    create_schema,
    csrf_token,
    dispose,
    environment,
    exchange,
    find_wrk,
    gunicorn,
    http,
    positive,
    python_load,
    remember_cookies,
    run_wrk,
    run_wrk_script,
    sign_in,
    summarise,
    throwaway_postgres,
)

FIXTURE_CONTENT = PROJECT_ROOT / "tests" / "fixtures" / "content"
COURSE_SLUG = "field-basics"
ASSESSMENT_SLUG = "final"
START_PATH = f"/courses/{COURSE_SLUG}/assessments/{ASSESSMENT_SLUG}/"
REPEATABLE = {"max_attempts": None, "cooldown_minutes": 0, "time_limit_minutes": None}
OFFICER_PASSWORD = "bench-password-123"
SAVED_QUESTION = "smuggling-ends"  # a true/false question every attempt draws
SUBMIT_SEQUENCE = 10**15  # higher than any autosave sequence, so the submit's answers win
TARGET_RATIO = 0.25
BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass
class Officer:
    """A signed-in officer: the Cookie header and a CSRF token valid for that session."""

    email: str
    cookie: str
    csrf: str


@dataclass
class SaveRecord:
    """One racing autosave: what was sent and what the server said."""

    sequence: int
    sent: float  # time.perf_counter() when sent
    status: int
    saved: bool  # 200 with the question in "saved": the server stored it
    busy: bool  # 409 because of contention, not because the attempt was submitted


@dataclass
class Race:
    """What the clients saw while one attempt was submitted by several threads at once."""

    attempt_id: int
    # (status, Location, time.perf_counter() and naive UTC time when the answer came)
    submits: list[tuple[int, str, float, datetime]] = field(default_factory=list)
    saves: list[SaveRecord] = field(default_factory=list)

    def first_submit_answer(self) -> tuple[float, datetime] | None:
        """When the first submit answered with a redirect (the attempt was graded by then)."""
        done = [(t, utc) for status, _location, t, utc in self.submits if status == 303]
        return min(done) if done else None


# --------------------------------------------------------------------------- data

def write_data_dir(root: Path) -> Dataset:
    """The fixture course and its quizzes under ``root``, the final assessment repeatable."""
    for kind in ("courses", "quizzes"):
        shutil.copytree(FIXTURE_CONTENT / kind / COURSE_SLUG, root / kind / COURSE_SLUG)
    final = root / "quizzes" / COURSE_SLUG / f"{ASSESSMENT_SLUG}.yaml"
    document = yaml.safe_load(final.read_text(encoding="utf-8"))
    document["assessment"].update(REPEATABLE)
    final.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    key = "bench-" + random.randbytes(32).hex()
    env = {
        "DATABASE_URL": f"sqlite:///{root / 'waymark.sqlite'}",
        "WAYMARK_COURSES_DIR": str(root / "courses"),
        "WAYMARK_QUIZZES_DIR": str(root / "quizzes"),
        "WAYMARK_SECRET_KEY": key,
        "WAYMARK_BASE_URL": "http://127.0.0.1",
        "FLASK_APP": "learning",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return Dataset(root, env, START_PATH, "Final assessment")


def officer_email(number: int) -> str:
    return f"officer{number}@bench.example"


def populate(dataset: Dataset, officers: int):
    """Publish the course and create ``officers`` officers; returns the app."""
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
            raise BenchError(f"the fixture course did not publish:\n{problems}")
        agency = get_or_create_agency("Bench Border Agency", "bench-border-agency")
        password_hash = hash_password(OFFICER_PASSWORD)  # argon2 once, not per officer
        db.session.execute(sa.insert(User), [
            {"email": officer_email(n), "display_name": f"Officer {n}", "role": "officer",
             "password_hash": password_hash, "agency_id": agency.id}
            for n in range(1, officers + 1)])
        db.session.commit()
    return app


def build_dataset(root: Path, officers: int, database_url: str | None = None):
    """Files, schema and rows; returns the dataset and its app (connections closed)."""
    dataset = write_data_dir(root)
    if database_url:
        dataset.env["DATABASE_URL"] = database_url
    create_schema(dataset)
    app = populate(dataset, officers)
    dispose(app)
    return dataset, app


def correct_form(app) -> list[tuple[str, str]]:
    """Form fields answering every question of the final assessment correctly.

    Option keys come from the question text, so one form fits every attempt, as
    long as every attempt draws the same questions (the fixture's draw takes all).
    """
    from learning.assessments.service import find_assessment

    with app.app_context():
        context = find_assessment(COURSE_SLUG, ASSESSMENT_SLUG)
        draws = [context.quizzes.draw(context.assessment, random.Random(seed))
                 for seed in range(5)]
    if len({frozenset(q.id for q in drawn) for drawn in draws}) != 1:
        raise BenchError("the final assessment draws different questions per attempt")
    form: list[tuple[str, str]] = []
    for question in draws[0]:
        for q in question.gradable():
            name = f"q-{q.id}"
            form.append(("included", q.id))
            if q.kind == "single":
                form.append((name, next(c.key for c in q.spec["options"] if c.correct)))
            elif q.kind == "multiple":
                form += [(name, c.key) for c in q.spec["options"] if c.correct]
            elif q.kind == "true_false":
                form.append((name, "true" if q.spec["answer"] else "false"))
            elif q.kind == "matching":
                form += [(f"{name}-{left}", right) for left, _text, right in q.spec["pairs"]]
            elif q.kind == "ordering":
                form += [(f"{name}-{key}", str(position))
                         for position, (key, _text) in enumerate(q.spec["items"], start=1)]
            elif q.kind == "numeric":
                form.append((name, str(q.spec["answer"])))
            elif q.kind == "short_text":
                form.append((name, q.spec["accept"][0]))
    return form


# --------------------------------------------------------------------------- setup over HTTP

def attempt_path(attempt_id: int, action: str = "") -> str:
    return f"{START_PATH}attempts/{attempt_id}/{action}"


def sign_in_officer(port: int, email: str) -> Officer:
    """Sign in through /login, then open the assessment's start page; returns the session."""
    jar = sign_in(port, email, OFFICER_PASSWORD)
    status, headers, body = http(port, "GET", START_PATH, {"Cookie": cookie_header(jar)})
    if status != 200 or b"Final assessment" not in body:
        raise BenchError(f"GET {START_PATH} answered {status} without the assessment")
    remember_cookies(jar, headers)
    return Officer(email, cookie_header(jar), csrf_token(body.decode()))


def sign_in_all(port: int, count: int) -> list[Officer]:
    """Sign in officers 1..count, a few at a time (argon2 makes each sign-in slow)."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda n: sign_in_officer(port, officer_email(n)),
                             range(1, count + 1)))


def start_attempt(port: int, officer: Officer) -> int:
    """POST the start form; the id of the new (or still open) attempt."""
    status, headers, _ = http(port, "POST", START_PATH, {
        "Content-Type": FORM, "Cookie": officer.cookie},
        urllib.parse.urlencode({"csrf_token": officer.csrf}))
    match = re.search(r"/attempts/(\d+)/$", headers.get("location", [""])[0])
    if status != 302 or not match:
        raise BenchError(f"starting an attempt as {officer.email} answered {status} "
                         f"{headers.get('location', [''])[0]}")
    return int(match.group(1))


def check_save(port: int, officer: Officer, attempt_id: int) -> None:
    """One autosave must answer 200 with the question saved."""
    form = urllib.parse.urlencode({"sequence": "0", "included": SAVED_QUESTION,
                                   f"q-{SAVED_QUESTION}": "true", "csrf_token": officer.csrf})
    status, _, body = http(port, "POST", attempt_path(attempt_id, "save"), {
        "Content-Type": FORM, "Accept": "application/json", "Cookie": officer.cookie}, form)
    if status != 200 or json.loads(body).get("saved") != [SAVED_QUESTION]:
        raise BenchError(f"an autosave answered {status}: {body[:300]!r}")


def check_submit(port: int, officer: Officer, form: list[tuple[str, str]]) -> None:
    """A fully correct submit must redirect to a result page that says 100% and Passed."""
    attempt_id = start_attempt(port, officer)
    status, headers, _ = http(port, "POST", attempt_path(attempt_id, "submit"), {
        "Content-Type": FORM, "Cookie": officer.cookie}, submit_body(officer, form))
    location = headers.get("location", [""])[0]
    if status != 303 or not location.endswith("/result"):
        raise BenchError(f"a submit answered {status} {location} instead of the result")
    status, _, body = http(port, "GET", location, {"Cookie": officer.cookie})
    if status != 200 or b"100%" not in body or b"Passed" not in body:
        raise BenchError(f"the result page ({status}) does not show a 100% pass")


def submit_body(officer: Officer, form: list[tuple[str, str]]) -> str:
    return urllib.parse.urlencode(
        [("sequence", str(SUBMIT_SEQUENCE)), *form, ("csrf_token", officer.csrf)])


# --------------------------------------------------------------------------- saves (wrk)

SAVE_SCRIPT = """\
-- Generated by bench/assessments.py: autosaves that cycle through signed-in officers'
-- attempts. Each wrk thread takes its own share of the attempts, so sequences only grow.
local entries = {
@ENTRIES@
}
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  stride = tonumber(args[1])
  mine, sent, statuses = {}, 0, {}
  for i, entry in ipairs(entries) do
    if (i - 1) % stride == tid then table.insert(mine, entry) end
  end
end

function request()
  sent = sent + 1
  local entry = mine[(sent - 1) % #mine + 1]
  local value = (sent % 2 == 0) and "true" or "false"
  local body = "sequence=" .. (sent * stride + tid) .. "&included=@QID@&q-@QID@=" .. value
    .. "&csrf_token=" .. entry[3]
  return wrk.format("POST", entry[1], {
    ["User-Agent"] = "@AGENT@", ["Cookie"] = entry[2], ["Accept"] = "application/json",
    ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end

""" + LUA_STATUSES


def save_script(officers: list[Officer], attempt_ids: list[int]) -> str:
    """The wrk Lua script for these officers' attempts."""
    rows = [
        "  {" + ", ".join(json.dumps(text, ensure_ascii=True) for text in (
            attempt_path(attempt_id, "save"), officer.cookie,
            urllib.parse.quote(officer.csrf, safe=""))) + "},"
        for officer, attempt_id in zip(officers, attempt_ids, strict=True)]
    return (SAVE_SCRIPT.replace("@ENTRIES@", "\n".join(rows))
            .replace("@QID@", SAVED_QUESTION).replace("@AGENT@", USER_AGENT))


def wrk_saves(wrk: str, port: int, officers: list[Officer], attempt_ids: list[int],
              args: argparse.Namespace, script: Path) -> Load:
    """Autosave load with wrk for ``args.duration`` seconds."""
    if len(officers) < args.threads:
        raise BenchError("need at least as many officers as wrk threads")
    # The script's argument is the number of threads: each takes its share of the attempts.
    return run_wrk_script(wrk, port, save_script(officers, attempt_ids), script, args,
                          expected=200, seed=args.threads)


def python_saves(port: int, officers: list[Officer], attempt_ids: list[int],
                 args: argparse.Namespace) -> Load:
    """The same autosaves with the Python generator (when wrk is not installed)."""
    stride = args.connections

    def make(thread: int, number: int) -> bytes:
        index = (number * stride + thread) % len(officers)  # spread over every attempt
        officer = officers[index]
        body = urllib.parse.urlencode({
            "sequence": str(number * stride + thread + 1), "included": SAVED_QUESTION,
            f"q-{SAVED_QUESTION}": "true" if number % 2 else "false",
            "csrf_token": officer.csrf})
        return build_request("POST", attempt_path(attempt_ids[index], "save"), {
            "Cookie": officer.cookie, "Accept": "application/json", "Content-Type": FORM}, body)

    return python_load(port, make, args.connections, args.duration, 200)


# --------------------------------------------------------------------------- submits

def submit_rounds(port: int, officers: list[Officer], form: list[tuple[str, str]],
                  args: argparse.Namespace) -> Load:
    """Rounds of (every officer starts an attempt; all of them are submitted, timed).

    An officer can have one open attempt at a time, so attempts are started per
    round; only the submits are timed, each attempt is submitted once, and rounds
    go on until the timed total reaches ``args.duration``.
    """
    seconds: list[float] = []
    statuses: Counter = Counter()
    ok, timed, submitted = 0, 0.0, set()

    def submit(pair: tuple[Officer, int]) -> Reply:
        officer, attempt_id = pair
        return exchange(port, build_request("POST", attempt_path(attempt_id, "submit"), {
            "Cookie": officer.cookie, "Content-Type": FORM}, submit_body(officer, form)))

    with ThreadPoolExecutor(args.connections) as pool:
        while timed < args.duration:
            ids = list(pool.map(lambda officer: start_attempt(port, officer), officers))
            if submitted & set(ids):
                raise BenchError("a start returned an attempt that was already submitted")
            start = time.perf_counter()
            replies = list(pool.map(submit, zip(officers, ids, strict=True)))
            timed += time.perf_counter() - start
            submitted.update(ids)
            for reply in replies:
                seconds.append(reply.seconds)
                statuses[reply.status] += 1
                ok += reply.status == 303 and reply.headers.get("location", "").endswith(
                    "/result")
    return summarise(seconds, statuses, timed, ok)


def submit_against_minimal(port: int, officers: list[Officer], form: list[tuple[str, str]],
                           args: argparse.Namespace, root: Path) -> list[tuple[float, Load, Load]]:
    """``args.rounds`` rounds of (``submit_rounds``; the minimal app loaded by the same
    generator for as long): (ratio, submit, minimal) per round.

    The machine's speed drifts by up to a fifth from one run to the next, so each ratio
    is taken within its own round, both servers up the whole time, and the median used.
    """
    request = build_request("GET", "/")
    found = []
    with gunicorn("minimal_app:app", {"PYTHONDONTWRITEBYTECODE": "1"}, args,
                  root / "minimal.log", "/") as minimal_port:
        python_load(minimal_port, lambda _t, _n: request, args.connections, 1, 200)  # warm
        for number in range(1, args.rounds + 1):
            submit = submit_rounds(port, officers, form, args)
            minimal = python_load(minimal_port, lambda _t, _n: request, args.connections,
                                  args.duration, 200)
            ratio = submit.requests_per_second / minimal.requests_per_second
            describe(f"round {number}, submit", submit, "303 to the result")
            describe(f"round {number}, minimal app", minimal, "200")
            print(f"  round {number}: ratio {ratio:.2f}")
            found.append((ratio, submit, minimal))
    return found


# --------------------------------------------------------------------------- the race

def race_attempt(port: int, officer: Officer, attempt_id: int,
                 args: argparse.Namespace) -> Race:
    """Submit one attempt from ``args.submitters`` threads at once while others save.

    The submits carry no answers (``included`` is empty), so every write to the
    attempt is either an accepted autosave or the grading: that makes the final
    revision checkable. Each saver keeps saving until it is told the attempt is
    submitted (or has sent ``args.saves_each`` saves).
    """
    from learning.timeutil import utcnow

    race = Race(attempt_id)
    barrier = threading.Barrier(args.submitters + args.savers)
    lock = threading.Lock()
    submit = build_request("POST", attempt_path(attempt_id, "submit"), {
        "Cookie": officer.cookie, "Content-Type": FORM},
        urllib.parse.urlencode({"sequence": "1", "csrf_token": officer.csrf}))

    def submitter() -> None:
        barrier.wait()
        reply = exchange(port, submit)
        with lock:
            race.submits.append((reply.status, reply.headers.get("location", ""),
                                 time.perf_counter(), utcnow()))

    def saver(number: int) -> None:
        barrier.wait()
        for round_ in range(args.saves_each):
            sequence = 1 + round_ * args.savers + number
            body = urllib.parse.urlencode({
                "sequence": str(sequence), "included": SAVED_QUESTION,
                f"q-{SAVED_QUESTION}": "true" if sequence % 2 else "false",
                "csrf_token": officer.csrf})
            sent = time.perf_counter()
            reply = exchange(port, build_request("POST", attempt_path(attempt_id, "save"), {
                "Cookie": officer.cookie, "Accept": "application/json", "Content-Type": FORM},
                body))
            answer = parse_json(reply.body)
            record = SaveRecord(
                sequence, sent, reply.status,
                saved=reply.status == 200 and SAVED_QUESTION in answer.get("saved", []),
                busy=reply.status == 409 and "busy" in str(answer.get("error", "")))
            with lock:
                race.saves.append(record)
            if reply.status == 409 and not record.busy:
                break

    threads = [threading.Thread(target=submitter) for _ in range(args.submitters)]
    threads += [threading.Thread(target=saver, args=(n,)) for n in range(args.savers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return race


def parse_json(body: bytes) -> dict:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def run_races(port: int, officers: list[Officer], args: argparse.Namespace) -> list[Race]:
    """Race ``args.race_attempts`` attempts, one after another, officers taking turns."""
    races, seen = [], set()
    for number in range(args.race_attempts):
        officer = officers[number % len(officers)]
        attempt_id = start_attempt(port, officer)
        if attempt_id in seen:  # the previous race left it open: counted when verified
            continue
        seen.add(attempt_id)
        races.append(race_attempt(port, officer, attempt_id, args))
    return races


def verify_races(app, races: list[Race]) -> Counter:
    """Read the raced attempts back from the database and count what went wrong."""
    import sqlalchemy as sa

    from learning.assessments.models import Attempt
    from learning.assessments.service import attempt_questions
    from learning.content.questions import grade_attempt
    from learning.extensions import db

    found = Counter(attempts=len(races))
    with app.app_context():
        rows = {a.id: a for a in db.session.scalars(
            sa.select(Attempt).where(Attempt.id.in_([r.attempt_id for r in races])))}
        for race in races:
            row = rows[race.attempt_id]
            accepted = [s for s in race.saves if s.saved]
            unknown = sum(1 for s in race.saves if s.status >= 500 or s.status == 0)
            first = race.first_submit_answer()
            found["submits"] += len(race.submits)
            found["submit 5xx"] += sum(1 for s in race.submits if s[0] >= 500 or s[0] == 0)
            found["submit not 303"] += sum(1 for s in race.submits if s[0] != 303)
            found["saves"] += len(race.saves)
            found["saves accepted"] += len(accepted)
            found["saves busy"] += sum(1 for s in race.saves if s.busy)
            found["save 5xx"] += unknown
            if row.status != "submitted":
                found["left open"] += 1
                continue
            # Every accepted save wrote once and the grading once (5xx saves: unknown).
            if row.revision > len(accepted) + 1 + unknown or (
                    first and row.submitted_at > first[1]):
                found["graded more than once"] += 1
            stored = (row.answers or {}).get(SAVED_QUESTION, {}).get("s", 0)
            if row.revision < len(accepted) + 1 or (
                    accepted and stored < max(s.sequence for s in accepted)):
                found["lost saves"] += 1
            if first:
                found["saves accepted after submission"] += sum(
                    1 for s in accepted if s.sent > first[0])
            grade = grade_attempt(attempt_questions(row), row.saved_values())
            regraded = {item.question_id: item.earned for item in grade.items}
            if row.results != regraded or abs(row.score - grade.score) > 1e-9:
                found["grade differs from stored answers"] += 1
        db.session.remove()
    return found


# --------------------------------------------------------------------------- the parts

def waymark_parts(root: Path, args: argparse.Namespace, wrk: str | None, figures: dict,
                  backend: str = "sqlite", database_url: str | None = None) -> bool:
    """Parts 1-4 and 6 on one database, all on one gunicorn; False if any part failed.

    Figures are stored as ``"save <backend>"``, ``"submit <backend>"``, ``"race <backend>"``.
    """
    name = BACKENDS[backend]
    print(f"== Building the fixture course and {args.officers} officers ({name}) in {root}")
    dataset, app = build_dataset(root, args.officers, database_url)
    races = None
    try:
        form = correct_form(app)
        print(f"== Waymark under gunicorn (-c gunicorn.conf.py -k sync -w {args.workers})"
              f" on {name}")
        with gunicorn("learning:create_app()", dataset.env, args, root / "waymark.log",
                      "/healthz") as port:
            started = time.perf_counter()
            officers = sign_in_all(port, args.officers)
            print(f"  signed in {len(officers)} officers in "
                  f"{time.perf_counter() - started:.1f} s")
            check_submit(port, officers[0], form)
            attempt_ids = [start_attempt(port, officer) for officer in officers]
            check_save(port, officers[0], attempt_ids[0])

            def saves() -> Load:
                if wrk:
                    return wrk_saves(wrk, port, officers, attempt_ids, args,
                                     root / "saves.lua")
                print("  wrk is not installed: using the Python generator for the saves")
                return python_saves(port, officers, attempt_ids, args)

            print(f"== Autosave load ({name}): POST {START_PATH}attempts/<id>/save")
            figures[f"save {backend}"] = attempt("autosave load", saves)
            describe("autosave", figures[f"save {backend}"], "200")
            print(f"== Submit load ({name}): rounds of one attempt per officer, submits timed;"
                  f" then the minimal app (GET /), same generator; {args.rounds} times")
            rounds = attempt("submit load", submit_against_minimal, port, officers, form,
                             args, root)
            if rounds:
                figures[f"ratios {backend}"] = sorted(ratio for ratio, _s, _m in rounds)
                _ratio, figures[f"submit {backend}"], figures[f"minimal {backend}"] = \
                    sorted(rounds, key=lambda found: found[0])[len(rounds) // 2]
            print(f"== Concurrent submits on {name}: {args.race_attempts} attempts")
            races = attempt(f"race ({name})", run_races, port, officers, args)
        if races is not None:
            figures[f"race {backend}"] = attempt(f"race check ({name})", verify_races, app,
                                                 races)
            describe_race(figures[f"race {backend}"])
    finally:
        dispose(app)
    return all(figures.get(f"{part} {backend}") is not None
               for part in ("save", "submit", "minimal", "race"))


def minimal_part(root: Path, args: argparse.Namespace, wrk: str) -> Load:
    """The minimal app loaded with wrk like the autosave, for comparison (its Python
    generator figures come with each submit round)."""
    root.mkdir(parents=True, exist_ok=True)
    print("== Minimal Flask app under the same gunicorn settings, with wrk: GET /")
    with gunicorn("minimal_app:app", {"PYTHONDONTWRITEBYTECODE": "1"}, args,
                  root / "minimal.log", "/") as port:
        found = run_minimal_wrk(wrk, port, args)
    describe("minimal (wrk)", found, "200")
    return found


def run_minimal_wrk(wrk: str, port: int, args: argparse.Namespace) -> Load:
    result = run_wrk(wrk, port, "/", None, args)
    return Load(result.requests_per_second, result.p50_ms, result.p99_ms, result.requests,
                result.errors, ok=result.requests, generator="wrk")


def postgres_part(root: Path, args: argparse.Namespace, wrk: str | None,
                  figures: dict) -> bool:
    """Parts 1-4 and 6 again on a throwaway PostgreSQL server."""
    with throwaway_postgres("waymark_bench") as url:
        return waymark_parts(root, args, wrk, figures, "postgres", url)


# --------------------------------------------------------------------------- report

def describe(label: str, result: Load | None, expected: str) -> None:
    """Print one load-test result."""
    if result is None:
        return
    print(f"  {label}: {result.requests_per_second:,.1f} req/s, p50 {result.p50_ms:.2f} ms, "
          f"p99 {result.p99_ms:.2f} ms ({result.requests:,} requests, "
          f"{result.ok_share:.1%} {expected})")
    others = {s: n for s, n in result.statuses.items() if s not in (200, 303)}
    if others:
        print(f"    other statuses: {others}")
    for error in result.errors:
        print(f"    warning: {error}")


def describe_race(found: Counter | None) -> None:
    if found is not None:
        print("  " + ", ".join(f"{name}: {count}" for name, count in found.items()))


RACE_CHECKS = ("graded more than once", "left open", "lost saves", "submit 5xx",
               "saves accepted after submission", "grade differs from stored answers")


def print_summary(figures: dict) -> None:
    """The summary table (missing figures shown as '-')."""
    def row(label: str, value: str, target: str = "", verdict: str = "") -> None:
        print(f"  {label:<52} {value:>20}  {target:<8} {verdict}")

    def load_rows(label: str, result: Load | None, expected: str = "") -> None:
        if result is None:
            row(f"{label}: requests/s", "-")
            return
        label = f"{label} ({result.generator})"
        row(f"{label}: requests/s", f"{result.requests_per_second:,.1f}")
        row(f"{label}: p50 / p99", f"{result.p50_ms:.1f} / {result.p99_ms:.1f} ms")
        if expected:
            row(f"{label}: share of {expected} answers", f"{result.ok_share:.1%}", "100%",
                "ok" if result.ok == result.requests else "ERRORS")

    print("\n== Summary")
    row("measure", "value", "target")
    row("-" * 52, "-" * 20, "-" * 8)
    minimal_wrk = figures.get("minimal wrk")
    if minimal_wrk:
        load_rows("minimal app", minimal_wrk)
    for backend, name in BACKENDS.items():
        if f"race {backend}" not in figures and f"submit {backend}" not in figures:
            continue
        save, submit = figures.get(f"save {backend}"), figures.get(f"submit {backend}")
        load_rows(f"autosave, {name}", save, "200")
        load_rows(f"submit, {name}, the median round", submit, "303")
        load_rows(f"minimal app, {name} median round", figures.get(f"minimal {backend}"))
        ratios = figures.get(f"ratios {backend}")
        if ratios:
            ratio = ratios[len(ratios) // 2]
            row(f"ratio submit / minimal ({name}), median round",
                f"{ratio:.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})",
                f">= {TARGET_RATIO}", "ok" if ratio >= TARGET_RATIO else "BELOW TARGET")
        if save and minimal_wrk and save.generator == "wrk":
            row(f"ratio autosave / minimal ({name}, wrk)",
                f"{save.requests_per_second / minimal_wrk.requests_per_second:.2f}")
        found = figures.get(f"race {backend}")
        if found is None:
            row(f"race ({name})", "-")
            continue
        row(f"race ({name}): attempts / submits / saves",
            f"{found['attempts']} / {found['submits']} / {found['saves']}")
        row(f"race ({name}): saves accepted / busy",
            f"{found['saves accepted']} / {found['saves busy']}")
        for check in RACE_CHECKS:
            row(f"race ({name}): {check}", str(found[check]), "0",
                "ok" if found[check] == 0 else "FOUND")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=positive, default=10,
                        help="seconds per load test (10)")
    parser.add_argument("--workers", type=positive, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--threads", type=positive, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=positive, default=16,
                        help="concurrent connections of every load test (16)")
    parser.add_argument("--officers", type=positive, default=50, help="officers (50)")
    parser.add_argument("--rounds", type=positive, default=3,
                        help="rounds of submits then the minimal app, for the ratio (3)")
    parser.add_argument("--race-attempts", type=positive, default=200,
                        help="attempts submitted concurrently in the race (200)")
    parser.add_argument("--submitters", type=positive, default=8,
                        help="threads submitting each raced attempt at once (8)")
    parser.add_argument("--savers", type=positive, default=4,
                        help="threads saving while a raced attempt is submitted (4)")
    parser.add_argument("--saves-each", type=positive, default=5,
                        help="saves per saver thread at most (5)")
    parser.add_argument("--postgres", action="store_true",
                        help="also run the loads and the race on a throwaway PostgreSQL server")
    parser.add_argument("--skip-wrk-minimal", action="store_true",
                        help="do not also load the minimal app with wrk")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every part; report what could be measured; 1 if anything failed to run."""
    args = parse_args(argv)
    figures: dict = {}
    wrk = find_wrk()
    with tempfile.TemporaryDirectory(prefix="waymark-bench-") as tmp:
        root = Path(tmp)
        ok = attempt("Waymark", waymark_parts, root / "sqlite", args, wrk, figures)
        failed = not ok
        if wrk and not args.skip_wrk_minimal:
            figures["minimal wrk"] = attempt("minimal app", minimal_part, root / "minimal",
                                             args, wrk)
            failed = failed or figures["minimal wrk"] is None
        if args.postgres:
            ok = attempt("PostgreSQL", postgres_part, root / "postgres", args, wrk, figures)
            failed = failed or not ok
    print_summary(figures)
    if failed:
        print("\nSome parts failed to run (see above).", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
