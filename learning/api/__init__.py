"""Read-only JSON API for agency HR systems, with per-agency tokens."""
