"""Background jobs: bulk certificates, large exports and reminders, on RQ or in-process."""
