"""Privacy: an officer's copy of their data, and the retention schedule's purge."""
