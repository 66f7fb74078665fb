"""The Flask class Waymark runs on: Flask, with its per-request async check made once.

Flask asks ``inspect.iscoroutinefunction`` about every hook and view on every request
(a dozen calls per page). Waymark's hooks and views are fixed once the app is built,
so the answer is remembered per function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

REMEMBERED = 4096  # more than the app's hooks, views and handlers; a bound, not a target


class WaymarkFlask(Flask):
    """Flask with ``ensure_sync`` remembered per function."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """The function itself for plain ``def`` functions; a wrapper for ``async def``."""
        remembered = self.__dict__.setdefault("_ensured", {})
        found = remembered.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(remembered) < REMEMBERED:
                remembered[func] = found
        return found
