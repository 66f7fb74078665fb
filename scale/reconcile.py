"""Every acknowledged save and submit, checked against the database after the run."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa


@dataclass
class Reconciliation:
    """Counts for the summary line, and a few examples of anything wrong."""

    acknowledged: int = 0
    lost: int = 0
    duplicated: int = 0
    details: list[str] = field(default_factory=list)

    def problem(self, kind: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.details) < 20:
            self.details.append(f"{kind}: {text}")


def read_acks(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def check_saves(found: Reconciliation, acks: Iterable[dict], attempts: dict[int, tuple]) -> None:
    """A save is kept when the stored answer has its sequence (and value) or a newer one."""
    for ack in acks:
        found.acknowledged += 1
        row = attempts.get(ack["attempt"])
        stored = (row[1] or {}).get(ack["question"]) if row else None
        if stored is None or stored["s"] < ack["sequence"]:
            found.problem("lost", f"save {ack['sequence']} of attempt {ack['attempt']}")
        elif stored["s"] == ack["sequence"] and stored["v"] != ack["value"]:
            found.problem("lost", f"save {ack['sequence']} of attempt {ack['attempt']} "
                                  "stored with another value")


def check_submits(found: Reconciliation, acks: Iterable[dict],
                  attempts: dict[int, tuple]) -> None:
    for ack in acks:
        found.acknowledged += 1
        row = attempts.get(ack["attempt"])
        if row is None or row[0] != "submitted" or row[2] is None:
            found.problem("lost", f"submit of attempt {ack['attempt']}")


def reconcile(database_url: str, acks_path: Path, course_slug: str, bulk_officers: list[int],
              job_id: int | None) -> Reconciliation:
    """Compare the acknowledgements with what the database holds, and look for duplicates."""
    acks = read_acks(acks_path)
    found = Reconciliation()
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            ids = sorted({ack["attempt"] for ack in acks})
            attempts: dict[int, tuple] = {}
            for start in range(0, len(ids), 1000):
                chunk = ids[start:start + 1000]
                rows = conn.execute(sa.text(
                    "SELECT id, status, answers, percent FROM attempt WHERE id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True)), {"ids": chunk})
                for attempt_id, status, answers, percent in rows:
                    if isinstance(answers, str):
                        answers = json.loads(answers)
                    attempts[attempt_id] = (status, answers, percent)
            check_saves(found, [a for a in acks if a["kind"] == "save"], attempts)
            check_submits(found, [a for a in acks if a["kind"] == "submit"], attempts)
            check_duplicates(found, conn, course_slug)
            check_bulk(found, conn, course_slug, bulk_officers)
    finally:
        engine.dispose()
    return found


def check_duplicates(found: Reconciliation, conn, course_slug: str) -> None:
    """Nothing recorded twice: completions, certificates, open attempts."""
    queries = {
        "completions": "SELECT user_id, course_id, cycle FROM completion "
                       "GROUP BY user_id, course_id, cycle HAVING count(*) > 1",
        "certificates": "SELECT completion_id FROM certificate "
                        "GROUP BY completion_id HAVING count(*) > 1",
        "open attempts": "SELECT user_id, assessment_slug FROM attempt WHERE status = 'open' "
                         "GROUP BY user_id, assessment_slug HAVING count(*) > 1",
    }
    for what, query in queries.items():
        for row in conn.execute(sa.text(query)):
            found.problem("duplicated", f"{what}: {tuple(row)}")


def check_bulk(found: Reconciliation, conn, course_slug: str, officers: list[int]) -> None:
    """The bulk job's promise: every officer awaiting a certificate has exactly one."""
    if not officers:
        return
    counts = dict(conn.execute(sa.text(
        "SELECT user_id, count(*) FROM certificate WHERE course_slug = :slug "
        "AND user_id IN :ids GROUP BY user_id").bindparams(
            sa.bindparam("ids", expanding=True)), {"slug": course_slug, "ids": officers}).all())
    for user_id in officers:
        found.acknowledged += 1
        held = counts.get(user_id, 0)
        if held == 0:
            found.problem("lost", f"bulk certificate of officer {user_id}")
        elif held > 1:
            found.problem("duplicated", f"{held} certificates for officer {user_id}")
