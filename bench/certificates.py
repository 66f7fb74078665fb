"""Benchmark certificates: PDF batches in-process and from the CLI, and the verify page.

Run ``.venv/bin/python bench/certificates.py`` from the project root. In one run it:

1. builds a throwaway data directory (the test fixture course ``field-basics``, a
   SQLite database, a secret key, a signing key of its own) and creates 1,000 officers
   sharing one precomputed password hash, with names in Latin (with accents), Cyrillic,
   Greek, Arabic and Chinese scripts (labels in Arabic and Chinese for those holders), and
   a Completion row each (cycle 0, the course's current
   version), so certificates can be issued without taking the course 1,000 times;
2. times ``issue_certificate`` + ``certificate_pdf`` for every completion in-process,
   writing the PDFs to the temporary directory: PDFs per second, peak Python memory
   (``tracemalloc``, over the last few PDFs of the batch) and the process's peak and
   current RSS before and after the batch;
3. runs the real ``flask certificates issue-missing --pdf-dir`` once, in a pseudo-terminal
   so its progress bar is drawn, for 100 more officers with a fresh completion each
   (and again with the app's locale selector fixed if it fails outside a request);
4. serves Waymark with gunicorn (the settings of bench/pages.py) and loads
   ``/verify/<code>`` with ``wrk`` and a Lua script cycling through 200 existing codes,
   then ``bench/minimal_app.py`` the same way; and times known, unknown and malformed
   codes with interleaved sequential requests, to compare their latencies;
5. prints a summary. The figures are reported, not asserted: the exit status is 1
   only when something failed to run.
"""

from __future__ import annotations

import argparse
import gc
import html
import os
import pty
import re
import resource
import secrets
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ behind in the project
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.assessments import COURSE_SLUG, FIXTURE_CONTENT  # noqa: E402
from bench.common import (  # noqa: E402  (needs the project root on sys.path first)
    HOST,
    PROJECT_ROOT,
    USER_AGENT,
    VENV_BIN,
    BenchError,
    Dataset,
    LoadResult,
    attempt,
    create_schema,
    dispose,
    environment,
    find_wrk,
    gunicorn,
    http,
    parse_wrk,
    positive,
    run_wrk,
)

OFFICER_PASSWORD = "bench-password-123"
INSTANCE_ENV = "WAYMARK_BENCH_INSTANCE"  # read by cli_app(): where the signing key lives
LOCALE_FIX_ENV = "WAYMARK_BENCH_LOCALE_FIX"  # read by cli_app(): "1" to fix the locale selector
REQUEST_CONTEXT_ERROR = "Working outside of request context"
VERIFY_RATE_LIMIT = "1000000 per minute"  # high enough never to answer 429 in a run
NOT_FOUND_TEXT = "No certificate has this code."
MALFORMED_CODES = ("not-a-code", "A" * 32, "x" * 64, "0123456789abcdef")
# A NUL byte never reaches a view: the app refuses it at the edge with 400 (any path).
REFUSED_AT_THE_EDGE = "%00"
TARGET_SPREAD = 1.25  # unknown and malformed p50 within 25% of a known code's

# Names in several scripts: given names and family names, combined by index.
NAMES = {
    "Latin": (["Zoë", "José", "François", "Łukasz", "Søren", "Ömer", "Inês", "Núria",
               "Håkon", "Dóra", "Ángel", "Renée"],
              ["Ñúñez", "Álvarez", "Lefèvre", "Wójcik", "Kierkegård", "Çelik", "Gonçalves",
               "Müller", "Dvořák", "Þórsdóttir", "Šimková", "Brontë"]),
    "Cyrillic": (["Анна", "Дмитрий", "Ольга", "Сергей", "Наталья", "Юрий", "Ирина",
                  "Богдан", "Людмила", "Ёжи", "Тарас", "Жанна"],
                 ["Петрова", "Иванов", "Соколова", "Кузнецов", "Шевченко", "Лебедев",
                  "Морозова", "Ковальчук", "Зайцева", "Щукин", "Бондаренко", "Фёдорова"]),
    "Greek": (["Ελένη", "Γιώργος", "Μαρία", "Δημήτρης", "Ψυχή", "Νίκος", "Αθηνά",
               "Χρήστος", "Σοφία", "Κώστας", "Ζωή", "Θεόδωρος"],
              ["Παπαδοπούλου", "Οικονόμου", "Γεωργίου", "Νικολάου", "Αλεξίου", "Βλάχος",
               "Καραγιάννη", "Μακρής", "Ξενάκη", "Φωτίου", "Σταθόπουλος", "Ρήγα"]),
    "Arabic": (["فاطمة", "محمد", "عائشة", "أحمد", "مريم", "يوسف", "خديجة", "عمر",
                "ليلى", "حسن", "زينب", "إبراهيم"],
               ["الزهراء", "العلي", "الحسيني", "بن سالم", "المصري", "الخطيب", "النجار",
                "الشامي", "القاسم", "حداد", "الرشيد", "عبد الله"]),
    "Chinese": (["秀英", "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇"],
                ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙"]),
}
SCRIPTS = tuple(NAMES)
# Holders who read Waymark in these languages get their certificate's labels in it
# (Arabic shaped; Chinese with the CJK fallback font): the batch prints all of them.
LANGUAGE_OF_SCRIPT = {"Arabic": "ar", "Chinese": "zh_Hans"}


@dataclass
class Batch:
    """What the in-process PDF batch measured."""

    certificates: int
    seconds: float  # wall clock of the untraced part, writes included
    timed: int  # certificates in the untraced part (the rate is over these)
    issue_ms: list[float]
    pdf_ms: list[float]
    traced: int
    traced_peak_bytes: int
    traced_retained_bytes: int  # still allocated after them, once cycles are collected
    rss_before_kib: int  # peak RSS (ru_maxrss) before the batch: argon2 hashing set it
    rss_after_kib: int
    rss_now_before_kib: int  # current RSS (VmRSS) before and after the batch
    rss_now_after_kib: int
    pdf_bytes: list[int]
    text_checks: dict[str, bool]

    @property
    def per_second(self) -> float:
        return self.timed / self.seconds if self.seconds else 0.0


@dataclass
class CliRun:
    """What one run of ``flask certificates issue-missing --pdf-dir`` did."""

    officers: int
    seconds: float
    pdfs: int
    summary: str  # the command's last line
    bar: str  # the last progress bar it drew
    bar_frames: int  # how many times it redrew the bar
    needed_fix: bool  # it failed outside a request context and ran again with the fix


@dataclass
class Timing:
    """Sequential verify requests for one kind of code."""

    kind: str
    status: int
    p50_ms: float
    p99_ms: float
    requests: int


# --------------------------------------------------------------------------- data

def holder_name(number: int) -> tuple[str, str]:
    """A name for officer ``number`` (0-based) and the script it is written in."""
    script = SCRIPTS[number % len(SCRIPTS)]
    given, family = NAMES[script]
    index = number // len(SCRIPTS)
    surname = family[(index // len(given) + index) % len(family)]
    if script == "Chinese":  # family name first, no space
        return f"{surname}{given[index % len(given)]}", script
    return f"{given[index % len(given)]} {surname}", script


def officer_email(number: int) -> str:
    """The (unique) e-mail address of officer ``number``."""
    return f"officer{number}@bench.example"


def write_data_dir(root: Path) -> Dataset:
    """The fixture course and its quizzes under ``root``, unchanged, and a secret key."""
    for kind in ("courses", "quizzes"):
        shutil.copytree(FIXTURE_CONTENT / kind / COURSE_SLUG, root / kind / COURSE_SLUG)
    (root / "instance").mkdir()
    env = {
        "DATABASE_URL": f"sqlite:///{root / 'waymark.sqlite'}",
        "WAYMARK_COURSES_DIR": str(root / "courses"),
        "WAYMARK_QUIZZES_DIR": str(root / "quizzes"),
        "WAYMARK_SECRET_KEY": secrets.token_urlsafe(48),
        "WAYMARK_BASE_URL": "http://127.0.0.1",
        "WAYMARK_VERIFY_RATE_LIMIT": VERIFY_RATE_LIMIT,
        INSTANCE_ENV: str(root / "instance"),
        "FLASK_APP": "learning",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return Dataset(root, env, "/verify/", "Certificate check")


def default_locale_outside_requests(app) -> None:
    """Make the app's locale selector answer None (the default locale) outside requests.

    ``learning._select_locale`` reads ``request.accept_languages`` even when there is
    no request, so ``certificate_pdf`` raises "Working outside of request context" in
    a script or CLI command. This wraps the selector the way the app itself should
    check ``has_request_context()``; inside requests nothing changes.
    """
    from flask import has_request_context
    from flask_babel import get_babel

    config = get_babel(app)
    selector = config.locale_selector
    config.locale_selector = lambda: selector() if has_request_context() else None


def make_app(dataset: Dataset):
    """``create_app()`` with the dataset's environment and its own instance folder.

    The instance folder holds the certificate signing key; pointing it into the
    temporary directory keeps the project's own ``instance/`` key out of the bench.
    The locale selector is fixed for use outside requests (see above).
    """
    from learning import create_app

    with environment(dataset.env):
        app = create_app()
    app.instance_path = dataset.env[INSTANCE_ENV]
    default_locale_outside_requests(app)
    return app


def cli_app():
    """The app the CLI part runs (``flask --app 'bench.certificates:cli_app()'``).

    It is ``learning:create_app()`` with the instance folder moved to the bench's
    temporary directory, so the command signs with the bench's key, not the project's.
    With ``WAYMARK_BENCH_LOCALE_FIX=1`` in the environment, the locale selector is
    also fixed for use outside requests.
    """
    from learning import create_app

    app = create_app()
    app.instance_path = os.environ[INSTANCE_ENV]
    if os.environ.get(LOCALE_FIX_ENV) == "1":
        default_locale_outside_requests(app)
    return app


def populate(dataset: Dataset, officers: int):
    """Publish the course and create the agency and the signing key; returns the app."""
    from learning.accounts.service import get_or_create_agency
    from learning.catalogue.service import sync_catalogue
    from learning.certificates.signing import load_or_create_private_key
    from learning.extensions import db

    app = make_app(dataset)
    with app.app_context():
        report = sync_catalogue(Path(dataset.env["WAYMARK_COURSES_DIR"]),
                                Path(dataset.env["WAYMARK_QUIZZES_DIR"]))
        if not report.ok or not report.created:
            problems = "\n".join(map(str, report.problems))
            raise BenchError(f"the fixture course did not publish:\n{problems}")
        get_or_create_agency("Bench Border Agency", "bench-border-agency")
        db.session.commit()
        load_or_create_private_key(app.instance_path)  # not the first PDF's job
    return app


def add_officers(app, first: int, count: int, progress: bool) -> list[int]:
    """Officers ``first``..``first+count-1`` with a Completion each; their completion ids.

    Every officer shares one precomputed argon2 hash. Each completion is cycle 0 on
    the course's current version, with a score, completed a day ago. With
    ``progress``, each officer also gets one LessonProgress row: ``issue-missing``
    only looks at officers with some progress or attempt.
    """
    import sqlalchemy as sa

    from learning.accounts.models import Agency, User
    from learning.accounts.service import hash_password
    from learning.catalogue.models import Course, Lesson
    from learning.certificates.models import Completion
    from learning.certificates.service import current_version
    from learning.extensions import db
    from learning.progress.models import LessonProgress
    from learning.timeutil import utcnow

    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.slug == COURSE_SLUG))
        version = current_version(course.id)
        agency_id = db.session.scalar(sa.select(Agency.id))
        password_hash = hash_password(OFFICER_PASSWORD)  # argon2 once, not per officer
        numbers = range(first, first + count)
        db.session.execute(sa.insert(User), [
            {"email": officer_email(n), "display_name": holder_name(n)[0], "role": "officer",
             "password_hash": password_hash, "agency_id": agency_id,
             "language": LANGUAGE_OF_SCRIPT.get(holder_name(n)[1])} for n in numbers])
        user_ids = db.session.scalars(
            sa.select(User.id).where(User.email.in_([officer_email(n) for n in numbers]))
            .order_by(User.id)).all()
        completed_at = utcnow() - timedelta(days=1)
        db.session.execute(sa.insert(Completion), [
            {"user_id": user_id, "course_id": course.id, "version_id": version.id, "cycle": 0,
             "completed_at": completed_at, "score": 80 + n % 21}
            for n, user_id in enumerate(user_ids)])
        if progress:
            slug, lesson_hash = db.session.execute(
                sa.select(Lesson.slug, Lesson.content_hash)
                .where(Lesson.version_id == version.id).order_by(Lesson.position)).first()
            db.session.execute(sa.insert(LessonProgress), [
                {"user_id": user_id, "course_id": course.id, "lesson_slug": slug,
                 "version_id": version.id, "lesson_hash": lesson_hash,
                 "completed_at": completed_at} for user_id in user_ids])
        db.session.commit()
        completion_ids = db.session.scalars(
            sa.select(Completion.id).where(Completion.user_id.in_(user_ids))
            .order_by(Completion.id)).all()
        db.session.remove()
    if len(completion_ids) != count:
        raise BenchError(f"expected {count} completions, found {len(completion_ids)}")
    return list(completion_ids)


# --------------------------------------------------------------------------- PDF batch

def peak_rss_kib() -> int:
    """The process's peak resident set size so far (ru_maxrss: KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def current_rss_kib() -> int:
    """The process's resident set size now (VmRSS), or 0 where /proc is missing."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def pdf_batch(app, completion_ids: list[int], out: Path, traced: int) -> Batch:
    """Issue and print a certificate for every completion, one after another.

    The last ``traced`` certificates run under tracemalloc, which makes them several
    times slower: they give the peak Python memory of one certificate in a warm
    batch (and what stays allocated after them), and are left out of the rate.
    """
    import sqlalchemy as sa

    from learning.certificates.models import Completion
    from learning.certificates.service import certificate_pdf, issue_certificate
    from learning.extensions import db

    out.mkdir(parents=True)
    traced = min(traced, len(completion_ids))
    untraced = len(completion_ids) - traced
    issue_ms: list[float] = []
    pdf_ms: list[float] = []
    sizes: list[int] = []
    samples: dict[str, tuple[str, Path]] = {}  # script -> (name, PDF) for the text check
    with app.app_context():
        completions = db.session.scalars(
            sa.select(Completion).where(Completion.id.in_(completion_ids))
            .order_by(Completion.id)).all()
        rss_before, rss_now_before = peak_rss_kib(), current_rss_kib()
        start = time.perf_counter()
        seconds = peak = retained = 0
        for number, completion in enumerate(completions):
            if number == untraced:
                seconds = time.perf_counter() - start
                tracemalloc.start()
            began = time.perf_counter()
            certificate = issue_certificate(completion)
            issued = time.perf_counter()
            pdf = certificate_pdf(certificate)
            done = time.perf_counter()
            path = out / f"{certificate.code}.pdf"
            path.write_bytes(pdf)
            if number < untraced:
                issue_ms.append((issued - began) * 1000)
                pdf_ms.append((done - issued) * 1000)
            sizes.append(len(pdf))
            script = holder_name(number)[1]
            samples.setdefault(script, (certificate.holder_name, path))
            del pdf, certificate
        if traced:
            peak = tracemalloc.get_traced_memory()[1]
            gc.collect()  # each FPDF document is a web of cycles: count only what stays
            retained = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        else:
            seconds = time.perf_counter() - start
        rss_after, rss_now_after = peak_rss_kib(), current_rss_kib()
        db.session.remove()
    bad = sum(1 for path in out.iterdir() if not path.read_bytes().startswith(b"%PDF-"))
    if bad or len(sizes) != len(completion_ids):
        raise BenchError(f"{bad} of {len(sizes)} files written are not PDFs")
    return Batch(len(completion_ids), seconds, untraced, issue_ms, pdf_ms, traced, peak,
                 retained, rss_before, rss_after, rss_now_before, rss_now_after, sizes,
                 check_names(samples))


def check_names(samples: dict[str, tuple[str, Path]]) -> dict[str, bool]:
    """For one PDF per script: does pdftotext find the holder's name? (Needs poppler.)

    Arabic comes out of pdftotext in visual order or as presentation forms, so for it
    any one word of the name is enough (as in tests/test_certificates.py).
    """
    if not shutil.which("pdftotext"):
        return {}
    found = {}
    for script, (name, path) in samples.items():
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                              text=True, timeout=60).stdout
        if script == "Arabic":
            found[script] = any(w in text or w[::-1] in text for w in name.split())
        else:
            found[script] = name in text
    return found


def describe_batch(batch: Batch) -> None:
    """Print the batch's figures."""
    print(f"  {batch.certificates:,} certificates; untraced part: {batch.timed:,} in "
          f"{batch.seconds:.1f} s = {batch.per_second:.2f} PDFs/s")
    if batch.issue_ms:
        print(f"  per certificate: issue_certificate median {statistics.median(batch.issue_ms):.2f}"
              f" ms, certificate_pdf median {statistics.median(batch.pdf_ms):.1f} ms "
              f"(p99 {quantile(batch.pdf_ms, 99):.1f} ms)")
    print(f"  PDF size {min(batch.pdf_bytes):,}-{max(batch.pdf_bytes):,} bytes")
    if batch.traced:
        print(f"  tracemalloc over the last {batch.traced} PDFs: peak "
              f"{batch.traced_peak_bytes / 2**20:.1f} MiB, still allocated after them (after gc) "
              f"{batch.traced_retained_bytes / 2**20:.2f} MiB")
    print(f"  peak RSS: {batch.rss_before_kib / 1024:.0f} MiB before the batch, "
          f"{batch.rss_after_kib / 1024:.0f} MiB after; current RSS "
          f"{batch.rss_now_before_kib / 1024:.0f} MiB before, "
          f"{batch.rss_now_after_kib / 1024:.0f} MiB after")
    if batch.text_checks:
        print("  names found by pdftotext: " + ", ".join(
            f"{script} {'yes' if ok else 'NO'}" for script, ok in batch.text_checks.items()))


def quantile(values: list[float], percent: int) -> float:
    """The ``percent``-th percentile of ``values`` (the value itself if there is one)."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[percent - 1]


# --------------------------------------------------------------------------- CLI

def run_in_terminal(command: list[str], env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as stdout/stderr; its status and output.

    click draws its progress bar only on a terminal; through a pipe it prints the
    label once and nothing else.
    """
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=follower, stderr=follower, start_new_session=True)
    finally:
        os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise BenchError(f"{' '.join(command[:4])} did not finish in {timeout:.0f} s")
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: the child closed the terminal
                    data = b""
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break
        return process.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()


def cli_batch(dataset: Dataset, app, officers: int, first: int) -> CliRun:
    """``flask certificates issue-missing --pdf-dir`` for ``officers`` fresh completions.

    The command runs as it is first. If it stops with "Working outside of request
    context" (the locale selector reads the request even in a CLI command), that is
    reported and the command runs again with the selector fixed, so the timing is
    still measured; the certificates issued before the failure are found again.
    """
    add_officers(app, first, officers, progress=True)
    dispose(app)
    out = dataset.root / "cli-pdfs"
    command = [str(VENV_BIN / "flask"), "--app", "bench.certificates:cli_app()",
               "certificates", "issue-missing", "--pdf-dir", str(out)]
    env = {**os.environ, **dataset.env, "COLUMNS": "100", "TERM": "xterm"}
    start = time.perf_counter()
    status, output = run_in_terminal(command, env, timeout=600)
    seconds = time.perf_counter() - start
    needed_fix = status != 0 and REQUEST_CONTEXT_ERROR in output
    if needed_fix:
        print(f"  APP BUG: issue-missing --pdf-dir stopped after {seconds:.1f} s with "
              f"'{REQUEST_CONTEXT_ERROR}' (learning._select_locale reads the request);\n"
              "  running it again with the locale selector fixed outside requests")
        if out.exists():
            shutil.rmtree(out)
        start = time.perf_counter()
        status, output = run_in_terminal(command, {**env, LOCALE_FIX_ENV: "1"}, timeout=600)
        seconds = time.perf_counter() - start
    if status != 0:
        raise BenchError(f"issue-missing exited with {status}:\n{output[-3000:]}")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)  # cursor hide/show sequences
    frames = [frame.strip() for frame in re.split(r"[\r\n]+", text) if frame.strip()]
    bars = [frame for frame in frames if frame.startswith("Checking completions")]
    pdfs = len(list(out.glob("*.pdf"))) if out.exists() else 0
    summary = frames[-1] if frames else ""
    if f"Checked {officers} officer-course pairs; {officers} certificates" not in summary:
        raise BenchError(f"issue-missing did not issue {officers} certificates:\n"
                         f"{output[-3000:]}")
    if pdfs != officers:
        raise BenchError(f"issue-missing wrote {pdfs} PDFs instead of {officers}")
    return CliRun(officers, seconds, pdfs, summary, bars[-1] if bars else "", len(bars),
                  needed_fix)


def describe_cli(run: CliRun) -> None:
    """Print the CLI run's figures."""
    print(f"  {run.pdfs} PDFs in {run.seconds:.1f} s (process start included) = "
          f"{run.pdfs / run.seconds:.2f} PDFs/s")
    print(f"  progress bar drawn {run.bar_frames} times; last: {run.bar!r}")
    print(f"  {run.summary}")


# --------------------------------------------------------------------------- verify page

VERIFY_SCRIPT = """\
-- Generated by bench/certificates.py: GET /verify/<code>, cycling through existing codes;
-- each wrk thread starts at its own place in the list.
local codes = {
@CODES@
}
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  sent = tid * 97
end

function request()
  sent = sent + 1
  return wrk.format("GET", "/verify/" .. codes[(sent - 1) % #codes + 1],
                    {["User-Agent"] = "@AGENT@"})
end
"""


def known_codes(app, count: int) -> list[tuple[str, str]]:
    """(code, holder name) of the first ``count`` certificates."""
    import sqlalchemy as sa

    from learning.certificates.models import Certificate
    from learning.extensions import db

    with app.app_context():
        rows = db.session.execute(sa.select(Certificate.code, Certificate.holder_name)
                                  .order_by(Certificate.id).limit(count)).all()
        db.session.remove()
    if not rows:
        raise BenchError("there are no certificates to verify")
    return [(code, name) for code, name in rows]


def check_verify(port: int, codes: list[tuple[str, str]]) -> None:
    """A known code shows its holder; unknown and malformed codes get the same 404 page."""
    code, name = codes[0]
    status, _, body = http(port, "GET", f"/verify/{code}")
    if status != 200 or html.escape(name).encode() not in body:
        raise BenchError(f"GET /verify/{code} answered {status} without the holder's name")
    reference = None
    for path in [secrets.token_hex(16), *MALFORMED_CODES]:
        status, _, body = http(port, "GET", f"/verify/{path}")
        if status != 404 or NOT_FOUND_TEXT.encode() not in body:
            raise BenchError(f"GET /verify/{path} answered {status} without the not-found page")
    status, _, _ = http(port, "GET", f"/verify/{REFUSED_AT_THE_EDGE}")
    if status != 400:
        raise BenchError(f"GET /verify/{REFUSED_AT_THE_EDGE} answered {status}, not 400")
        reference = reference or body
        if body != reference:
            raise BenchError(f"GET /verify/{path} is not the same page as an unknown code's")


def wrk_verify(wrk: str, port: int, codes: list[tuple[str, str]], args: argparse.Namespace,
               script: Path) -> LoadResult:
    """Load /verify/<code> with wrk, cycling through ``codes``, for ``args.duration`` s."""
    rows = "\n".join(f'  "{code}",' for code, _ in codes)
    script.write_text(VERIFY_SCRIPT.replace("@CODES@", rows).replace("@AGENT@", USER_AGENT),
                      encoding="utf-8")
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
               "--latency", "-s", str(script), f"http://{HOST}:{port}/"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=args.duration + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return parse_wrk(result.stdout)


def sequential_timings(port: int, codes: list[tuple[str, str]], rounds: int) -> list[Timing]:
    """Known, unknown and malformed codes, one request at a time, interleaved.

    Each round sends one request of each kind, in an order that rotates, so the
    three kinds share the same conditions. Unknown codes are fresh random 32-hex
    strings; malformed ones rotate through a few shapes (uppercase, too long, too
    short, not hex, a NUL byte).
    """
    kinds = ("known", "unknown", "malformed")
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    statuses: dict[str, set[int]] = {kind: set() for kind in kinds}
    for number in range(rounds):
        paths = {"known": codes[number % len(codes)][0], "unknown": secrets.token_hex(16),
                 "malformed": MALFORMED_CODES[number % len(MALFORMED_CODES)]}
        for offset in range(3):
            kind = kinds[(number + offset) % 3]
            start = time.perf_counter()
            status, _, _ = http(port, "GET", f"/verify/{paths[kind]}")
            times[kind].append((time.perf_counter() - start) * 1000)
            statuses[kind].add(status)
    expected = {"known": {200}, "unknown": {404}, "malformed": {404}}
    for kind in kinds:
        if statuses[kind] != expected[kind]:
            raise BenchError(f"{kind} codes answered {sorted(statuses[kind])}")
    return [Timing(kind, next(iter(expected[kind])), statistics.median(times[kind]),
                   quantile(times[kind], 99), len(times[kind])) for kind in kinds]


def verify_load(dataset: Dataset, app, args: argparse.Namespace, wrk: str | None,
                figures: dict) -> None:
    """The verify page under gunicorn: wrk over existing codes, then sequential timings."""
    codes = known_codes(app, args.codes)
    dispose(app)
    print(f"== Waymark under gunicorn (-c gunicorn.conf.py -k sync -w {args.workers}): "
          f"GET /verify/<code>, {len(codes)} codes")
    with gunicorn("learning:create_app()", dataset.env, args, dataset.root / "waymark.log",
                  "/healthz") as port:
        check_verify(port, codes)
        if wrk:
            figures["verify"] = attempt("verify load", wrk_verify, wrk, port, codes, args,
                                        dataset.root / "verify.lua")
            describe_load("verify page", figures.get("verify"))
        else:
            print("  wrk is not installed (apt-get install wrk): no load test", file=sys.stderr)
        print(f"== Known, unknown and malformed codes: {args.rounds} sequential rounds")
        figures["timings"] = attempt("sequential timings", sequential_timings, port, codes,
                                     args.rounds)
        for timing in figures["timings"] or []:
            print(f"  {timing.kind:<9} {timing.status}: p50 {timing.p50_ms:.2f} ms, "
                  f"p99 {timing.p99_ms:.2f} ms ({timing.requests} requests)")
    if wrk:
        print("== Minimal Flask app under the same gunicorn settings: GET /")
        with gunicorn("minimal_app:app", dataset.env, args, dataset.root / "minimal.log",
                      "/") as port:
            figures["minimal"] = attempt("minimal load", run_wrk, wrk, port, "/", None, args)
            describe_load("minimal app", figures.get("minimal"))


def describe_load(label: str, result: LoadResult | None) -> None:
    """Print one wrk result."""
    if result is None:
        return
    print(f"  {label}: {result.requests_per_second:,.1f} req/s, p50 {result.p50_ms:.2f} ms, "
          f"p99 {result.p99_ms:.2f} ms ({result.requests:,} requests)")
    for error in result.errors:
        print(f"    warning: {error}")


# --------------------------------------------------------------------------- the parts

def run_parts(root: Path, args: argparse.Namespace, wrk: str | None, figures: dict) -> None:
    """Data, the PDF batch, the CLI run and the verify page, on one dataset."""
    print(f"== Building the fixture course and {args.officers:,} officers in {root}")
    started = time.perf_counter()
    dataset = write_data_dir(root)
    create_schema(dataset)
    app = populate(dataset, args.officers)
    try:
        completion_ids = add_officers(app, 0, args.officers, progress=False)
        print(f"  {len(completion_ids):,} officers with a completion each, names in "
              f"{', '.join(SCRIPTS)} (e.g. {', '.join(holder_name(n)[0] for n in range(4))}) "
              f"in {time.perf_counter() - started:.1f} s")
        print(f"== PDF batch in-process: issue_certificate + certificate_pdf x "
              f"{len(completion_ids):,}")
        figures["batch"] = attempt("PDF batch", pdf_batch, app, completion_ids,
                                   root / "pdfs", args.traced)
        if figures["batch"]:
            describe_batch(figures["batch"])
        if args.cli_officers:
            print(f"== flask certificates issue-missing --pdf-dir: {args.cli_officers} "
                  "fresh completions")
            figures["cli"] = attempt("CLI batch", cli_batch, dataset, app, args.cli_officers,
                                     args.officers)
            if figures["cli"]:
                describe_cli(figures["cli"])
        verify_load(dataset, app, args, wrk, figures)
    finally:
        dispose(app)


# --------------------------------------------------------------------------- report

def print_summary(figures: dict, args: argparse.Namespace) -> None:
    """The summary table (missing figures shown as '-')."""
    def row(label: str, value: str, target: str = "", verdict: str = "") -> None:
        print(f"  {label:<50} {value:>22}  {target:<8} {verdict}")

    print("\n== Summary")
    row("measure", "value", "target")
    row("-" * 50, "-" * 22, "-" * 8)
    batch: Batch | None = figures.get("batch")
    if batch:
        row(f"PDF batch ({batch.timed:,} untraced): PDFs/s", f"{batch.per_second:.2f}")
        row("PDF batch: wall clock (untraced part)", f"{batch.seconds:.1f} s")
        if batch.issue_ms:
            row("issue_certificate / certificate_pdf median",
                f"{statistics.median(batch.issue_ms):.1f} / "
                f"{statistics.median(batch.pdf_ms):.0f} ms")
        if batch.traced:
            row(f"peak Python memory (tracemalloc, {batch.traced} PDFs)",
                f"{batch.traced_peak_bytes / 2**20:.1f} MiB")
            row("Python memory left after them", f"{batch.traced_retained_bytes / 2**20:.2f} MiB")
        row("peak RSS before / after the batch",
            f"{batch.rss_before_kib / 1024:.0f} / {batch.rss_after_kib / 1024:.0f} MiB")
        row("current RSS before / after the batch",
            f"{batch.rss_now_before_kib / 1024:.0f} / {batch.rss_now_after_kib / 1024:.0f} MiB")
        if batch.text_checks:
            ok = all(batch.text_checks.values())
            row("names found in the PDFs (one per script)",
                f"{sum(batch.text_checks.values())}/{len(batch.text_checks)}",
                "all", "ok" if ok else "MISSING")
    else:
        row("PDF batch: PDFs/s", "-")
    cli: CliRun | None = figures.get("cli")
    if cli:
        row(f"CLI issue-missing --pdf-dir ({cli.officers}): time", f"{cli.seconds:.1f} s")
        row("CLI: PDFs/s (process start included)", f"{cli.pdfs / cli.seconds:.2f}")
        complete = f"{cli.officers}/{cli.officers}" in cli.bar
        row("CLI: progress bar drawn", f"{cli.bar_frames} times", "to N/N",
            "ok" if cli.bar_frames > 1 and complete else "NOT DRAWN")
        row("CLI: runs without the locale fix", "no" if cli.needed_fix else "yes", "yes",
            "APP BUG" if cli.needed_fix else "ok")
    elif args.cli_officers:
        row("CLI issue-missing --pdf-dir: time", "-")
    verify, minimal = figures.get("verify"), figures.get("minimal")
    for label, result in (("verify page (wrk)", verify), ("minimal app (wrk)", minimal)):
        if result:
            row(f"{label}: requests/s", f"{result.requests_per_second:,.1f}")
            row(f"{label}: p50 / p99", f"{result.p50_ms:.2f} / {result.p99_ms:.2f} ms")
        else:
            row(f"{label}: requests/s", "-")
    if verify and minimal:
        ratio = verify.requests_per_second / minimal.requests_per_second
        row("ratio verify / minimal", f"{ratio:.2f}")
    timings: list[Timing] | None = figures.get("timings")
    if timings:
        known = timings[0]
        for timing in timings:
            row(f"sequential p50: {timing.kind} code ({timing.status})",
                f"{timing.p50_ms:.2f} ms")
        for timing in timings[1:]:
            ratio = timing.p50_ms / known.p50_ms
            within = 1 / TARGET_SPREAD <= ratio <= TARGET_SPREAD
            row(f"p50 {timing.kind} / known", f"{ratio:.2f}",
                f"{1 / TARGET_SPREAD:.2f}-{TARGET_SPREAD}", "ok" if within else "DIFFERS")
    else:
        row("sequential p50 per kind of code", "-")


def non_negative(text: str) -> int:
    """An argparse type: a whole number of at least 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {value}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=positive, default=1_000,
                        help="officers, completions and PDFs in the in-process batch (1000)")
    parser.add_argument("--traced", type=non_negative, default=10,
                        help="last PDFs of the batch run under tracemalloc (10; 0: none)")
    parser.add_argument("--cli-officers", type=non_negative, default=100,
                        help="fresh completions for the issue-missing run (100; 0: skip)")
    parser.add_argument("--codes", type=positive, default=200,
                        help="existing codes wrk cycles through (200)")
    parser.add_argument("--rounds", type=positive, default=300,
                        help="sequential rounds of known, unknown and malformed codes (300)")
    parser.add_argument("--duration", type=positive, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--workers", type=positive, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--threads", type=positive, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=positive, default=16, help="wrk connections (16)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every part; report what could be measured; 1 if anything failed to run."""
    args = parse_args(argv)
    figures: dict = {}
    wrk = find_wrk()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="waymark-bench-") as tmp:
        attempt("certificates", run_parts, Path(tmp), args, wrk, figures)
    expected = ["batch", "timings"] + (["cli"] if args.cli_officers else [])
    expected += ["verify", "minimal"] if wrk else []
    failed = not wrk or any(figures.get(name) is None for name in expected)
    print_summary(figures, args)
    print(f"\nWhole run: {time.perf_counter() - started:.0f} s")
    if not wrk:
        print("wrk is not installed, so the load tests could not run. Install it with:\n"
              "  apt-get install wrk", file=sys.stderr)
    if failed:
        print("\nSome parts failed to run (see above).", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
