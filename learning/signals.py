"""Signals between features, so dependencies keep pointing one way.

Catalogue and assessments announce that an officer's progress changed;
certificates listens and checks the completion rule. Neither sender imports
the listener.
"""

from blinker import Namespace

_signals = Namespace()

progress_changed = _signals.signal("progress-changed")
"""Sent with ``user_id`` and ``course_id`` after a lesson is completed or an attempt graded."""

certificates_changed = _signals.signal("certificates-changed")
"""Sent with ``user_ids`` after a bulk update of certificates that bypassed the ORM's units of
work (a publication asking holders to recertify), so derived state can be recomputed."""
