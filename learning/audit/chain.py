"""The hash chain itself, as pure functions: what a row's hash covers and how it is computed.

Nothing here touches Flask or the database, so the migration that chains existing rows and
``flask audit verify`` compute exactly the same thing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of the first row
OUTCOMES = ("success", "failure", "denied")


def normalise_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Details as they come back from a JSON column (string keys, lists), so hashes match."""
    return json.loads(json.dumps(details or {}, default=str))


def canonical(row_id: int, at: datetime, actor_id: int | None, agency_id: int | None,
              action: str, target: str, details: dict[str, Any], outcome: str,
              address: str | None, prev_hash: str) -> bytes:
    """The bytes a row's hash covers: every field, as sorted, compact JSON."""
    return json.dumps({
        "id": row_id, "at": at.isoformat(timespec="microseconds"), "actor_id": actor_id,
        "agency_id": agency_id, "action": action, "target": target, "details": details,
        "outcome": outcome, "address": address, "prev_hash": prev_hash,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(row_id: int, at: datetime, actor_id: int | None, agency_id: int | None,
                 action: str, target: str, details: dict[str, Any], outcome: str,
                 address: str | None, prev_hash: str) -> str:
    """SHA-256 (hex) of a row's canonical form, which includes the previous row's hash."""
    return hashlib.sha256(canonical(row_id, at, actor_id, agency_id, action, target, details,
                                    outcome, address, prev_hash)).hexdigest()
