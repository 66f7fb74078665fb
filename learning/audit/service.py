"""Writing the audit log (every row chained to the one before) and checking the chain.

``record_audit`` adds a row to the caller's transaction; the ``before_flush`` hook below
numbers and hashes every new row while holding the chain's lock, so two app servers writing
at once still produce one unbroken chain: PostgreSQL takes a transaction-level advisory
lock, SQLite's single writer lock serialises the rest. The lock is held until the caller
commits, so callers record as late as they can and commit soon after.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import has_request_context, request

from learning.accounts.models import User
from learning.audit.chain import GENESIS, OUTCOMES, compute_hash, normalise_details
from learning.audit.models import AuditEntry
from learning.extensions import db
from learning.timeutil import utcnow

CHAIN_LOCK_KEY = 0x5741594D41524B  # "WAYMARK": the advisory lock that orders the chain
_order = itertools.count()  # creation order of entries flushed together


def record_audit(actor: User | None, action: str, target: str = "",
                 details: dict[str, Any] | None = None, agency_id: int | None = None, *,
                 outcome: str = "success", address: str | None = None) -> AuditEntry:
    """Append to the audit log (the caller commits with the action it records).

    ``outcome`` is "success", "failure" or "denied"; ``address`` defaults to the
    client address of the current request. Never pass secrets in ``details``.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"Unknown audit outcome {outcome!r}.")
    if address is None and has_request_context():
        address = request.remote_addr
    entry = AuditEntry(actor_id=actor.id if actor else None,
                       agency_id=agency_id if agency_id is not None
                       else (actor.agency_id if actor else None),
                       action=action[:60], target=(target or "")[:200],
                       details=normalise_details(details), outcome=outcome,
                       address=(address or None) and address[:45])
    entry.chain_order = next(_order)
    db.session.add(entry)
    return entry


def _take_chain_lock(connection: sa.Connection) -> None:
    """Serialise writers of the chain until this transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": CHAIN_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # A write (matching no row) takes SQLite's writer lock now, before the last row is
        # read, so no other connection can append between that read and our insert.
        connection.execute(sa.text("UPDATE audit_entry SET id = id WHERE 0"))


@sa.event.listens_for(so.Session, "before_flush")
def _chain_new_entries(session: so.Session, _context, _instances) -> None:
    """Give every new audit row the next id, its time, the previous hash and its own hash."""
    new = sorted((o for o in session.new if isinstance(o, AuditEntry)),
                 key=lambda e: getattr(e, "chain_order", 0))
    if not new:
        return
    connection = session.connection()
    _take_chain_lock(connection)
    last = connection.execute(sa.select(AuditEntry.id, AuditEntry.row_hash)
                              .order_by(AuditEntry.id.desc()).limit(1)).first()
    last_id, prev_hash = (last.id, last.row_hash) if last else (0, GENESIS)
    for entry in new:
        last_id += 1
        entry.id, entry.at, entry.prev_hash = last_id, utcnow(), prev_hash
        entry.target = entry.target or ""
        entry.outcome = entry.outcome or "success"
        entry.details = normalise_details(entry.details)
        entry.row_hash = prev_hash = compute_hash(
            entry.id, entry.at, entry.actor_id, entry.agency_id, entry.action, entry.target,
            entry.details, entry.outcome, entry.address, entry.prev_hash)


# Verifying ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """What ``verify_chain`` found: the number of rows, the head hash, or the first bad row."""

    rows: int
    head: str
    bad_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_id is None


def _rows(batch: int) -> Iterator[sa.Row]:
    columns = [AuditEntry.id, AuditEntry.at, AuditEntry.actor_id, AuditEntry.agency_id,
               AuditEntry.action, AuditEntry.target, AuditEntry.details, AuditEntry.outcome,
               AuditEntry.address, AuditEntry.prev_hash, AuditEntry.row_hash]
    yield from db.session.execute(sa.select(*columns).order_by(AuditEntry.id)
                                  .execution_options(yield_per=batch))


def verify_chain(batch: int = 1000) -> Verdict:
    """Walk the log in id order and name the first row that was changed, removed or added.

    Rows are streamed, so a log of millions of rows needs little memory.
    """
    expected_id, prev_hash, count = 1, GENESIS, 0
    for row in _rows(batch):
        if row.id != expected_id:
            missing = (f"row {expected_id} is missing" if row.id > expected_id
                       else f"row {row.id} is out of place")
            return Verdict(count, prev_hash, row.id, f"{missing} (ids jump to {row.id})")
        if row.prev_hash != prev_hash:
            return Verdict(count, prev_hash, row.id,
                           "its previous-row hash does not match the row before it "
                           "(a row was inserted or removed here)")
        recomputed = compute_hash(row.id, row.at, row.actor_id, row.agency_id, row.action,
                                  row.target, row.details, row.outcome, row.address,
                                  row.prev_hash)
        if recomputed != row.row_hash:
            return Verdict(count, prev_hash, row.id, "its content does not match its hash "
                                                     "(the row was changed)")
        expected_id, prev_hash, count = row.id + 1, row.row_hash, count + 1
    return Verdict(count, prev_hash)


def chain_head() -> tuple[int, str]:
    """The id and hash of the newest row (0 and the genesis hash for an empty log)."""
    last = db.session.execute(sa.select(AuditEntry.id, AuditEntry.row_hash)
                              .order_by(AuditEntry.id.desc()).limit(1)).first()
    return (last.id, last.row_hash) if last else (0, GENESIS)


VERIFY_ACTION = "audit.verify"


def record_verdict(verdict: Verdict) -> AuditEntry:
    """Append the check's result to the log itself (committed), so admins see the last one
    on the audit page; the row is covered by the next check."""
    details: dict[str, Any] = {"rows": verdict.rows}
    if verdict.ok:
        details["head"] = verdict.head
    else:
        details.update(bad_row=verdict.bad_id, reason=verdict.reason)
    entry = record_audit(None, VERIFY_ACTION, "chain", details,
                         outcome="success" if verdict.ok else "failure")
    db.session.commit()
    return entry


def latest_verdict(within: timedelta = timedelta(days=8)) -> AuditEntry | None:
    """The newest recorded check within ``within`` (bounded by the indexed time, so a log
    without any check is not scanned whole)."""
    return db.session.scalar(
        sa.select(AuditEntry)
        .where(AuditEntry.at >= utcnow() - within, AuditEntry.action == VERIFY_ACTION)
        .order_by(AuditEntry.id.desc()).limit(1))
