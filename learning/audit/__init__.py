"""The audit trail: one hash-chained row per security-relevant event."""
