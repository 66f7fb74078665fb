"""The bulk certificate job of `make scale-test`, started and watched through the database."""

from __future__ import annotations

import subprocess
import sys

import sqlalchemy as sa

START = """
import sys
from learning import create_app
from learning.accounts.models import User
from learning.extensions import db
from learning.jobs.service import enqueue
app = create_app()
with app.app_context():
    manager = db.session.get(User, int(sys.argv[1]))
    job, _ = enqueue("certificates", {"course_id": int(sys.argv[2]), "pdfs": True}, manager,
                     "scale-test-bulk-certificates")
    print(job.id)
"""


def start_bulk_certificates(cluster, plan: dict) -> int:
    """Queue the job as the agency's manager would (on Redis: the worker picks it up)."""
    result = subprocess.run([sys.executable, "-c", START, str(plan["manager_id"]),
                             str(plan["course_id"])], env=cluster.env, capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"could not queue the bulk job:\n{result.stderr}")
    return int(result.stdout.strip().splitlines()[-1])


def _row(cluster, job_id: int) -> tuple[str, int, int]:
    engine = sa.create_engine(cluster.env["DATABASE_URL"], pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT state, done, total FROM job WHERE id = :id"),
                               {"id": job_id}).one()
    finally:
        engine.dispose()
    return row[0], row[1] or 0, row[2] or 0


def progress(cluster, job_id: int) -> tuple[int, int]:
    """(done, total) as the job last committed them."""
    try:
        _state, done, total = _row(cluster, job_id)
    except sa.exc.OperationalError:  # PostgreSQL restarting: no progress seen this time
        return 0, 0
    return done, total


def finished(cluster, job_id: int) -> bool:
    try:
        state = _row(cluster, job_id)[0]
    except sa.exc.OperationalError:
        return False
    if state == "failed":
        raise RuntimeError(f"the bulk job {job_id} failed (see worker.log)")
    return state == "done"
