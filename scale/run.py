"""`make scale-test`: app servers, PostgreSQL, Redis and a job worker, under load and faults.

Starts on loopback only: a throwaway PostgreSQL, Redis, three gunicorn app servers
behind nginx and one job worker. Locust (headless) plays officers who read lessons,
autosave about every 20 s and submit finals. During the run it SIGKILLs one app
server and restarts it, restarts PostgreSQL once, and SIGKILLs the job worker in
the middle of a bulk certificate job, then starts a new one. Afterwards it
reconciles every acknowledged save and submit against the database and prints one
line last. Exit status: 0 when nothing was lost or duplicated and every part ran.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from scale import jobs, reconcile  # noqa: E402
from tests.pgserver import ThrowawayPostgres  # noqa: E402

VENV_BIN = Path(sys.executable).parent
FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "content"
COURSE = "field-basics"
ASSESSMENT = "final"
START_PATH = f"/courses/{COURSE}/assessments/{ASSESSMENT}/"
PASSWORD = "scale-password-123"
SAVED_QUESTION = "smuggling-ends"  # a true/false question every attempt of the final draws
SUBMIT_SEQUENCE = 10**15  # above every autosave's sequence (milliseconds since 1970)
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


class ScaleError(RuntimeError):
    """A part of the run could not be set up or did not behave."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``check`` until it holds; bounded, so a stuck part fails the run instead of hanging."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise ScaleError(f"timed out after {seconds:.0f} s waiting for {what}")


@dataclass
class Service:
    """A process this run started; stopped (TERM, then KILL) when the run ends."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self) -> Service:
        handle = open(self.log_path, "ab")  # noqa: SIM115 (kept open by the child)
        self.process = subprocess.Popen(self.command, env=self.env, stdout=handle,
                                        stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
                                        start_new_session=True)
        handle.close()
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful shutdown, like a crashed machine."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Cluster:
    """Everything the run started, and where."""

    root: Path
    env: dict[str, str]
    postgres: ThrowawayPostgres
    nginx_port: int = 0
    apps: list[Service] = field(default_factory=list)
    worker: Service | None = None
    others: list[Service] = field(default_factory=list)


# --------------------------------------------------------------------------- set-up

def write_content(root: Path) -> None:
    """The fixture course, its final repeatable so officers can take it again and again."""
    for kind in ("courses", "quizzes"):
        shutil.copytree(FIXTURE / kind / COURSE, root / kind / COURSE)
    final = root / "quizzes" / COURSE / f"{ASSESSMENT}.yaml"
    document = yaml.safe_load(final.read_text(encoding="utf-8"))
    document["assessment"].update(max_attempts=None, cooldown_minutes=0,
                                  time_limit_minutes=None)
    final.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def start_redis(root: Path) -> tuple[Service, str]:
    port = free_port()
    service = Service("redis", [REDIS, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--unixsocket", "",
                                "--dir", str(root)],
                      dict(os.environ), root / "redis.log").start()
    wait_for(lambda: _redis_ping(port), 15, "redis-server")
    return service, f"redis://127.0.0.1:{port}/0"


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def flask(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run([str(VENV_BIN / "flask"), *args], env=env, cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise ScaleError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start_app(cluster: Cluster, number: int, port: int) -> Service:
    env = dict(cluster.env, PORT=str(port), WEB_CONCURRENCY="2")
    service = Service(f"app{number}", [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py",
                                       "-b", f"127.0.0.1:{port}", "learning:create_app()"],
                      env, cluster.root / f"app{number}.log").start()
    service.port = port  # type: ignore[attr-defined]
    wait_for(lambda: _healthy(port), 60, f"app server {number} on port {port}")
    return service


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(16).split(b" ")[1:2] == [b"200"]
    except (OSError, IndexError):
        return False


def nginx_config(root: Path, port: int, upstreams: list[int]) -> Path:
    """nginx in front of the app servers: POSTs are never retried on another server."""
    temp = root / "nginx-temp"
    temp.mkdir()
    servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"
                        for p in upstreams)
    user = "user root root;" if os.geteuid() == 0 else ""
    text = f"""{user}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
  access_log off;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  upstream waymark {{
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 6m;
    location / {{
      proxy_pass http://waymark;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }}
  }}
}}
"""
    path = root / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


def seed(cluster: Cluster, officers: int, bulk: int) -> dict:
    """Schema, course, officers (load) and officers with a completion but no certificate (bulk)."""
    flask(cluster.env, "db", "upgrade")
    flask(cluster.env, "content", "sync")
    script = PROJECT_ROOT / "scale" / "seed.py"
    output = subprocess.run([sys.executable, str(script), str(officers), str(bulk), PASSWORD],
                            env=cluster.env, cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=600)
    if output.returncode != 0:
        raise ScaleError(f"seeding failed:\n{output.stdout}\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def start_cluster(stack: ExitStack, root: Path, args: argparse.Namespace) -> tuple[Cluster, dict]:
    log("starting PostgreSQL and Redis on loopback")
    postgres = ThrowawayPostgres().start()
    stack.callback(postgres.stop)
    redis, redis_url = start_redis(root)
    stack.callback(redis.stop)
    write_content(root)
    nginx_port = free_port()
    env = dict(os.environ,
               DATABASE_URL=postgres.create_database("waymark"), REDIS_URL=redis_url,
               WAYMARK_SECRET_KEY="scale-" + random.randbytes(32).hex(),
               WAYMARK_BASE_URL=f"http://127.0.0.1:{nginx_port}", WAYMARK_PROXIES="1",
               WAYMARK_REQUIRE_MFA="0", WAYMARK_COURSES_DIR=str(root / "courses"),
               WAYMARK_QUIZZES_DIR=str(root / "quizzes"), FLASK_APP="learning",
               PYTHONDONTWRITEBYTECODE="1",
               # A killed worker's job is requeued within heartbeat + maintenance seconds;
               # small chunks keep each within the heartbeat on a loaded machine.
               WAYMARK_JOB_HEARTBEAT_SECONDS="20", WAYMARK_JOB_MAINTENANCE_SECONDS="10",
               WAYMARK_JOB_WORKER_TTL="30", WAYMARK_JOB_CHUNK="10")
    env.pop("FLASK_DEBUG", None)
    cluster = Cluster(root, env, postgres, nginx_port, others=[redis])
    log(f"seeding {args.officers} officers and {args.bulk} awaiting certificates")
    plan = seed(cluster, args.officers, args.bulk)
    log(f"starting {args.app_servers} app servers")
    for number in range(1, args.app_servers + 1):
        app = start_app(cluster, number, free_port())
        stack.callback(app.stop)
        cluster.apps.append(app)
    nginx = Service("nginx", [NGINX, "-c", str(nginx_config(
        root, nginx_port, [a.port for a in cluster.apps]))], dict(os.environ),  # type: ignore[attr-defined]
        root / "nginx.log").start()
    stack.callback(nginx.stop)
    wait_for(lambda: _healthy(nginx_port), 20, "nginx")
    cluster.worker = start_worker(cluster)
    stack.callback(lambda: cluster.worker and cluster.worker.stop())
    return cluster, plan


def start_worker(cluster: Cluster) -> Service:
    return Service("worker", [str(VENV_BIN / "flask"), "jobs", "worker"], cluster.env,
                   cluster.root / "worker.log").start()


# --------------------------------------------------------------------------- the run

def run_locust(cluster: Cluster, plan_path: Path, acks: Path, args: argparse.Namespace
               ) -> Service:
    env = dict(cluster.env, SCALE_PLAN=str(plan_path), SCALE_ACKS=str(acks))
    return Service("locust", [
        str(VENV_BIN / "locust"), "-f", str(PROJECT_ROOT / "scale" / "locustfile.py"),
        "--headless", "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", f"{args.duration}s", "--stop-timeout", "30",
        "--host", f"http://127.0.0.1:{cluster.nginx_port}",
        "--csv", str(cluster.root / "locust"), "--only-summary", "--loglevel", "WARNING",
        "--exit-code-on-error", "0"], env, cluster.root / "locust.log").start()


def faults(cluster: Cluster, plan: dict, args: argparse.Namespace, started: float
           ) -> list[str]:
    """The three faults, at fixed times into the run; returns what happened, for the log."""
    done: list[str] = []

    def at(seconds: float) -> None:
        time.sleep(max(0.0, started + seconds - time.monotonic()))

    at(args.duration * 0.25)
    victim = cluster.apps[1]
    log(f"fault: SIGKILL {victim.name}")
    victim.kill()
    time.sleep(5)
    victim.start()
    wait_for(lambda: _healthy(victim.port), 60, f"{victim.name} to restart")  # type: ignore[attr-defined]
    done.append(f"{victim.name} killed and restarted")
    log(done[-1])

    at(args.duration * 0.4)
    job_id = jobs.start_bulk_certificates(cluster, plan)
    log(f"bulk certificate job {job_id} started")
    wait_for(lambda: jobs.progress(cluster, job_id)[0] > 0, 60, "the bulk job to make progress")
    before = jobs.progress(cluster, job_id)
    cluster.worker.kill()
    log(f"fault: SIGKILL the worker at {before[0]} of {before[1]}")
    time.sleep(3)
    cluster.worker = start_worker(cluster)
    done.append(f"worker killed at {before[0]}/{before[1]} and replaced")

    at(args.duration * 0.65)
    log("fault: restarting PostgreSQL")
    cluster.postgres.restart()
    done.append("PostgreSQL restarted")
    log(done[-1])
    return done + [f"bulk job {job_id}"]


def p95(stats: dict[str, dict[str, str]], name: str) -> str:
    row = stats.get(name)
    return row.get("95%", "?") if row else "-"


def read_stats(root: Path) -> tuple[dict[str, dict[str, str]], int, int]:
    path = root / "locust_stats.csv"
    if not path.exists():
        raise ScaleError("Locust wrote no statistics (see locust.log)")
    with path.open(encoding="utf-8") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    total = rows.get("Aggregated", {})
    return rows, int(total.get("Request Count", 0)), int(total.get("Failure Count", 0))


def run(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="waymark-scale-"))
    with ExitStack() as stack:
        if not args.keep:
            stack.callback(shutil.rmtree, root, True)
        cluster, plan = start_cluster(stack, root, args)
        plan_path = root / "plan.json"
        plan_path.write_text(json.dumps(plan), encoding="utf-8")
        acks = root / "acks.jsonl"
        log(f"Locust: {args.users} officers for {args.duration} s through nginx on port "
            f"{cluster.nginx_port}")
        started = time.monotonic()
        locust = run_locust(cluster, plan_path, acks, args)
        stack.callback(locust.stop)
        events = faults(cluster, plan, args, started)
        job_id = int(events[-1].split()[-1])
        locust.process.wait(timeout=args.duration + 120)
        try:
            wait_for(lambda: jobs.finished(cluster, job_id), 300, "the bulk job to finish")
        except RuntimeError as exc:  # counted below: its missing certificates are lost
            log(f"the bulk job did not finish: {exc}")
        stats, requests, failures = read_stats(root)
        found = reconcile.reconcile(cluster.env["DATABASE_URL"], acks, plan["course"],
                                    plan["bulk_officers"], job_id)
    errors = 100 * failures / requests if requests else 100.0
    for name in ("read", "save", "submit", "sign in"):
        row = stats.get(name, {})
        log(f"{name}: {row.get('Request Count', 0)} requests, {row.get('Failure Count', 0)} "
            f"failed, p50 {row.get('50%', '-')} ms, p95 {row.get('95%', '-')} ms")
    for line in found.details:
        log(line)
    print(f"acknowledged: {found.acknowledged}, lost: {found.lost}, "
          f"duplicated: {found.duplicated}, errors: {errors:.1f}%, p95 ms: read "
          f"{p95(stats, 'read')}, save {p95(stats, 'save')}, submit {p95(stats, 'submit')}",
          flush=True)
    return 0 if found.lost == 0 and found.duplicated == 0 and found.acknowledged > 0 else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500, help="simulated officers (500)")
    # Each new officer signs in once (Argon2id, ~0.1-0.25 s of CPU): 3 a second keeps the
    # sign-in wave within what 2 cores hash while the first officers already read and save.
    parser.add_argument("--spawn-rate", type=float, default=3, help="officers started per s (3)")
    parser.add_argument("--duration", type=int, default=300, help="seconds of load (300)")
    parser.add_argument("--officers", type=int, default=500, help="officer accounts (500)")
    parser.add_argument("--bulk", type=int, default=400,
                        help="officers awaiting a certificate for the bulk job (400)")
    parser.add_argument("--app-servers", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for tool in (NGINX, REDIS, str(VENV_BIN / "locust")):
        if not Path(tool).exists():
            print(f"scale-test needs {tool} (make scale-test installs it)", file=sys.stderr)
            return 2
    try:
        return run(args)
    except RuntimeError as exc:  # ScaleError, or a part that failed (its log is named)
        print(f"scale-test could not run: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
