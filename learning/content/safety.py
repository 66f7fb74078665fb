"""Read content files without ever leaving the content tree.

A symbolic link in ``courses/`` once published ``instance/secret_key`` as a
lesson image. So the tree is walked by file descriptor: every folder and file
is opened relative to its parent with ``O_NOFOLLOW``, which refuses a link in
any path component (a linked folder included) and cannot be raced by swapping
a file for a link between the check and the read. Only regular files with a
single link and a bounded size are read; everything else is a ``path:line``
error, so ``content check`` reports it and ``sync`` publishes nothing.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from learning.content.links import IMAGE_EXTENSIONS
from learning.content.problems import Problem

MAX_TEXT_BYTES = 1024 * 1024  # a lesson, course.md or question bank
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_YAML_DEPTH = 40  # nesting of lists and mappings; our banks need fewer than 10

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO swapped in after the check must not hang the loader.
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_LINK_MESSAGE = ("is a symbolic link: content never follows links, which could publish files "
                 "from outside the content folder; put a copy of the file here instead")


def is_image(name: str) -> bool:
    """True for the image files lessons may show (by extension)."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    return extension in IMAGE_EXTENSIONS


def size_limit(name: str) -> int:
    """The largest file accepted under this name: images may be bigger than text."""
    return MAX_IMAGE_BYTES if is_image(name) else MAX_TEXT_BYTES


def _too_large(name: str, size: int | None) -> str:
    limit = size_limit(name)
    kind = "an image" if is_image(name) else "a text file"
    found = f"{size:,} bytes" if size is not None else "it grew while being read"
    return f"file is too large ({found}; the limit for {kind} is {limit // (1024 * 1024)} MB)"


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refusal(mode: int) -> str | None:
    """Why an entry of this type is refused, or None for folders and regular files."""
    if stat.S_ISLNK(mode):
        return _LINK_MESSAGE
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    return (f"is {_special_kind(mode)}: content folders hold only regular files and folders")


def check_entry(path: Path, shown: str) -> Problem | None:
    """A problem if ``path`` itself (not followed) is a link or special file, else None."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    reason = _refusal(mode)
    return Problem(shown, 1, reason) if reason else None


def read_tree(folder: Path, prefix: str, problems: list[Problem]) -> list[tuple[str, bytes]]:
    """Every regular file under ``folder`` as (``prefix/relative path``, bytes), in name order.

    Hidden names are skipped. A missing folder is empty; links, special files,
    hard-linked and oversized files are problems and are not read.
    """
    refused = check_entry(folder, prefix)
    if refused is not None:
        problems.append(refused)
        return []
    try:
        fd = os.open(folder, _OPEN_DIR)
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(Problem(prefix, 1, _open_failure(exc)))
        return []
    found: list[tuple[str, bytes]] = []
    try:
        _walk(fd, prefix, problems, found)
    finally:
        os.close(fd)
    return sorted(found)


def read_one(folder: Path, name: str) -> bytes | None:
    """One file directly in ``folder``, refused as ``read_tree`` would refuse it; None if it
    is missing or refused (the course that holds it reports why when it is loaded)."""
    if "/" in name or name.startswith("."):
        return None
    try:
        fd = os.open(folder, _OPEN_DIR)
    except OSError:
        return None
    try:
        return _read_file(fd, name, name, [])
    finally:
        os.close(fd)


def _open_failure(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return _LINK_MESSAGE
    if exc.errno == errno.ENOTDIR:
        return "is not a folder"
    return f"cannot be read: {exc.strerror}"


def _walk(dir_fd: int, prefix: str, problems: list[Problem],
          found: list[tuple[str, bytes]]) -> None:
    with os.scandir(dir_fd) as entries:
        names = sorted(entry.name for entry in entries if not entry.name.startswith("."))
    for name in names:
        shown = f"{prefix}/{name}"
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            continue  # removed while we walked
        reason = _refusal(mode)
        if reason:
            problems.append(Problem(shown, 1, reason))
        elif stat.S_ISDIR(mode):
            try:
                child = os.open(name, _OPEN_DIR, dir_fd=dir_fd)
            except OSError as exc:
                problems.append(Problem(shown, 1, _open_failure(exc)))
                continue
            try:
                _walk(child, shown, problems, found)
            finally:
                os.close(child)
        else:
            data = _read_file(dir_fd, name, shown, problems)
            if data is not None:
                found.append((shown, data))


def _read_file(dir_fd: int, name: str, shown: str, problems: list[Problem]) -> bytes | None:
    """The bytes of one regular, singly linked, small enough file; None (and a problem) if not."""
    try:
        fd = os.open(name, _OPEN_FILE, dir_fd=dir_fd)
    except OSError as exc:
        problems.append(Problem(shown, 1, _open_failure(exc)))
        return None
    try:
        info = os.fstat(fd)
        reason = _refusal(info.st_mode)
        if reason:
            problems.append(Problem(shown, 1, reason))
            return None
        if info.st_nlink > 1:
            problems.append(Problem(shown, 1, f"has {info.st_nlink} hard links: a hard-linked "
                                    "file may be a file from outside the content folder, so it "
                                    "is refused; put a separate copy here instead"))
            return None
        limit = size_limit(name)
        if info.st_size > limit:
            problems.append(Problem(shown, 1, _too_large(name, info.st_size)))
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            problems.append(Problem(shown, 1, _too_large(name, None)))
            return None
        return data
    finally:
        os.close(fd)


def tree_stamp(*folders: Path) -> tuple:
    """A cheap fingerprint of everything under ``folders`` (names, types, sizes, times).

    It changes when any file is added, removed, replaced or rewritten, so a
    parsed catalogue can be reused until then without reading a single file.
    """
    stamp: list[tuple] = []
    for folder in folders:
        for directory, dirnames, filenames in os.walk(folder, followlinks=False):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                path = os.path.join(directory, name)
                try:
                    info = os.lstat(path)
                except FileNotFoundError:
                    continue
                stamp.append((path, info.st_mode, info.st_ino, info.st_nlink, info.st_size,
                              info.st_mtime_ns, info.st_ctime_ns))
    return tuple(stamp)
