"""Administration: running the instance (certificates for now; agencies and accounts next)."""
