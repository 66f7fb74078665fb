"""Instructions per lesson page, counted by Valgrind's cachegrind: a figure that does not
move with the machine's load.

On a shared machine the requests/s of ``pages.py`` move by 15 % or more between runs,
which hides changes of that size. Cachegrind counts the instructions a process runs,
the same from one run to the next. This script builds the same data as ``pages.py``
(a course of lessons, officers with some lessons read), records a mix of signed-in
lesson requests (random officer, random lesson), and runs them as WSGI calls in a
child process under cachegrind, twice: with no request and with N requests, after the
same warm-up (every measured page built once, as on a server that has run for days).
The difference divided by N is the cost of one request. The same is done for the
minimal app of ``pages.py``; the script prints both and their ratio.

    .venv/bin/python bench/instructions.py              # ~4 min on 2 cores
    .venv/bin/python bench/instructions.py --requests 400

The ratio is not the requests/s ratio of ``pages.py``: gunicorn, the network and wrk
cost the same for both apps there and are not counted here. Needs ``valgrind``.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from common import PROJECT_ROOT, VENV_BIN  # noqa: E402
from pages import (  # noqa: E402
    COURSE_SLUG,
    build_dataset,
    in_process_client,
    lesson_path,
    mark_some_complete,
    officer_email,
)

WARM_UP = 200


def record_requests(root: Path, lessons: int, officers: int, count: int) -> Path:
    """Build the data and pickle (environment, WSGI environs) for WARM_UP + count GETs."""
    from werkzeug.test import EnvironBuilder

    dataset, app = build_dataset(root, lessons, officers)
    mark_some_complete(app, officers, lessons)
    clients = [in_process_client(app, officer_email(n)) for n in range(1, officers + 1)]
    for client in clients:  # as a browser: the first page puts the CSRF token in the session
        client.get(f"/courses/{COURSE_SLUG}/")
    chooser = random.Random(3)
    paths = [lesson_path(i) for i in range(1, lessons + 1)]
    measured = []
    for _ in range(count):
        client, path = chooser.choice(clients), chooser.choice(paths)
        environ = EnvironBuilder(path=path, base_url="http://localhost/",
                                 environ_base=client.environ_base).get_environ()
        client._add_cookies_to_wsgi(environ)
        measured.append({k: v for k, v in environ.items() if isinstance(v, str | int | bool)})
    out = root / "requests.pickle"
    # The warm-up is the measured requests themselves: every page they need is built.
    out.write_bytes(pickle.dumps((dataset.env, measured[:WARM_UP] + measured, WARM_UP)))
    return out


def child(recorded: Path, app_name: str, count: int) -> None:
    """Run the warm-up, then ``count`` of the recorded requests (under cachegrind)."""
    env, environs, warm_up = pickle.loads(recorded.read_bytes())
    os.environ.update(env)
    os.environ["WAYMARK_LOG_FORMAT"] = "json"  # as gunicorn.conf.py sets it
    if app_name == "minimal":
        from minimal_app import app
        environs = [{**e, "PATH_INFO": "/"} for e in environs]
    else:
        import logging

        from learning import create_app
        app = create_app()
        for handler in logging.getLogger("learning").handlers:
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115  (lives with the process)
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    for environ in environs[:warm_up + count]:
        b"".join(app({**environ, "wsgi.input": io.BytesIO(b""),
                      "wsgi.errors": sys.stderr}, start_response))
    if any(not status.startswith("200") for status in statuses):
        raise SystemExit(f"answers other than 200: {sorted(set(statuses))}")


def instructions(recorded: Path, app_name: str, count: int) -> int:
    """Instructions cachegrind counted for one child run."""
    result = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         str(VENV_BIN / "python"), __file__, "--child", str(recorded), app_name, str(count)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=1800)
    found = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"cachegrind run failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_request(recorded: Path, app_name: str, count: int) -> float:
    return (instructions(recorded, app_name, count) - instructions(recorded, app_name, 0)) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests (200)")
    parser.add_argument("--lessons", type=int, default=100)
    parser.add_argument("--officers", type=int, default=20)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(Path(args.child[0]), args.child[1], int(args.child[2]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)")
        return 1
    with tempfile.TemporaryDirectory(prefix="waymark-instructions-") as tmp:
        recorded = record_requests(Path(tmp), args.lessons, args.officers, args.requests)
        print(f"== {args.requests} lesson GETs ({args.lessons} lessons x {args.officers} "
              "officers, random mix) and as many minimal-app GETs, under cachegrind")
        lesson = per_request(recorded, "waymark", args.requests)
        minimal = per_request(recorded, "minimal", args.requests)
    print(f"  lesson page: {lesson / 1e6:.2f} M instructions per request")
    print(f"  minimal app: {minimal / 1e6:.2f} M instructions per request")
    print(f"  ratio minimal / lesson: {minimal / lesson:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
