"""Pages rendered once per immutable version, with slots for what belongs to the reader.

A lesson page is the same for every reader of one lesson of one version who has the
same role, locale and completed state, except for a few values: the reader's name,
their CSRF token, their progress bar. The page is rendered once per such key with
markers in place of those values, split at the markers, and each request only joins
the pieces with its own escaped values. Nothing of one reader is ever stored: the
markers stand in for them while the shell is rendered.

The markers hold a random token drawn when the process starts, so no content
(published before the process started, or by anyone) can contain one.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from markupsafe import Markup

from learning.accounts.models import User

_TOKEN = secrets.token_hex(16)
_MARKER = re.compile(f"<!--slot:{_TOKEN}:([a-z_]+)-->")


def slot(name: str) -> Markup:
    """The marker that stands for the value ``name`` while a shell is rendered."""
    return Markup(f"<!--slot:{_TOKEN}:{name}-->")


@dataclass(frozen=True)
class Shell:
    """A rendered page cut at its slots: ``parts`` around ``slots`` (one fewer).

    The parts are kept as UTF-8: a page is encoded once when its shell is made, not on
    every request (encoding tens of kilobytes costs more than filling the slots).
    """

    parts: tuple[bytes, ...]
    slots: tuple[str, ...]

    @classmethod
    def split(cls, html: str) -> Shell:
        """Cut rendered HTML at its markers."""
        pieces = _MARKER.split(html)
        return cls(tuple(piece.encode() for piece in pieces[0::2]), tuple(pieces[1::2]))

    def fill(self, values: Mapping[str, bytes]) -> bytes:
        """The page with every slot replaced by its (already escaped, encoded) value."""
        out = [self.parts[0]]
        for name, part in zip(self.slots, self.parts[1:], strict=True):
            out.append(values[name])
            out.append(part)
        return b"".join(out)


@dataclass(frozen=True)
class SlotReader:
    """Stands in for ``current_user`` while a shell renders: the role, and a slot for the name.

    Only what the base template reads is here, so a template that starts to show
    anything else of the reader fails loudly instead of caching it.
    """

    role: str
    display_name: Markup = slot("name")
    is_authenticated: bool = True

    def has_role(self, *roles: str) -> bool:
        """The same rule as ``User.has_role``."""
        return User.has_role(self, *roles)  # type: ignore[arg-type]


def shell_context(role: str) -> dict[str, object]:
    """Template variables that turn the reader's own values into slots."""
    csrf = slot("csrf")
    reader: Callable[[], Markup] = lambda: csrf  # noqa: E731  (the template calls csrf_token())
    return {"current_user": SlotReader(role), "csrf_token": reader}
