"""``flask notify ...``: reminders through the outbox."""

from flask.cli import AppGroup

notify_cli = AppGroup("notify", help="Queue and send reminder digests.")
