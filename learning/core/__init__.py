"""Cross-cutting pages: home, health check, errors and security headers."""
