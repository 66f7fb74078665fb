"""Instance files (keys, and the files derived from them) written whole: a process
starting beside others never reads half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def create_once(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (mode 0600) unless it exists; True if this call made it.

    The data is written whole under a temporary name and then linked into place, so
    processes starting together (app servers on a new instance) see no file or all of
    it, never a half-written one, and the first link wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)


def replace_whole(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` under a temporary name, then rename it into place: for a
    file derived from a key (its public half, its certificate), which any process holding
    the key may write, all of them the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
