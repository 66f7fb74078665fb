"""Course zips: deterministic export, and an import that treats every archive as hostile.

An import is checked on the zip's central directory before a single byte is
extracted (names, types, declared sizes, ratios, encryption), then streamed into
a fresh temporary folder counting the bytes really inflated, since headers lie.
Only then does the normal loader read the folder, with the same rules as
``content check``. Nothing is written anywhere but that folder, which is gone
when the import returns. No Flask and no database here.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from learning.content import CourseLoad, load_course
from learning.content.problems import Problem
from learning.content.safety import size_limit
from learning.content.schema import SLUG

MAX_ZIP_BYTES = 64 * 1024 * 1024  # the archive itself (uploads are capped lower by the app)
MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 64 * 1024 * 1024  # everything inflated
MAX_RATIO = 100  # inflated / compressed, per entry and for the whole archive
RATIO_FLOOR = 1024  # entries smaller than this are too small for a ratio to mean anything
MAX_NAME_LENGTH = 400
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: exports are reproducible
ROOTS = ("courses", "quizzes")
ARCHIVE_EXTENSIONS = {"zip", "jar", "tar", "gz", "tgz", "bz2", "xz", "7z", "rar", "zst"}
ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"\xfd7zXZ",
                 b"7z\xbc\xaf", b"Rar!", b"\x28\xb5\x2f\xfd")
_CHUNK = 64 * 1024
ARCHIVE = "archive"  # the path problems about the zip as a whole are reported under
MARKER = ".published-hash"  # as catalogue.service.MARKER: hidden, so never content
_HASH = re.compile(r"[0-9a-f]{64}")


class ArchiveError(Exception):
    """The zip was refused; ``problems`` says why, entry by entry."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class ZipImport:
    """A zip that passed every archive check, loaded by the normal content loader."""

    slug: str
    load: CourseLoad
    entries: int
    inflated_bytes: int
    base_hash: str | None = None  # the version an export marker says the files came from


def build_zip(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip of ``(path, bytes)`` entries in name order with fixed times: same input, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so external_attr holds a mode
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def shown_name(name: str) -> str:
    """An entry name safe to print: control characters escaped, length capped."""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in name[:200])
    return text + ("…" if len(name) > 200 else "")


def _name_problem(name: str) -> str | None:
    """Why this entry name may not be extracted, or None."""
    if not name or len(name) > MAX_NAME_LENGTH:
        return "entry name is empty or too long"
    if any(ord(c) < 32 or ord(c) == 127 or unicodedata.category(c) in ("Cc", "Cf", "Cs")
           for c in name):
        return "entry name contains a control character"
    if "\\" in name:
        return "entry name contains a backslash (zips use forward slashes)"
    if name.startswith("/"):
        return "entry name is an absolute path"
    if len(name) >= 2 and name[1] == ":":
        return "entry name starts with a drive letter"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "entry name contains '..', which would leave the course folder"
    if any(part in ("", ".") for part in parts):
        return "entry name has an empty or '.' path component"
    if parts[0] not in ROOTS:
        return "entry is outside courses/<course>/ and quizzes/<course>/"
    if len(parts) >= 2 and not SLUG.match(parts[1]):
        return "course folder name must be lower-case words joined by hyphens"
    return None


def _type_problem(info: zipfile.ZipInfo) -> str | None:
    """Why this entry's type, flags or compression are refused, or None."""
    if info.flag_bits & 0x1:
        return "entry is encrypted: encrypted archives are not accepted"
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):
        return "entry is a symbolic link: content never follows links"
    if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "entry is not a regular file or folder"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return "entry uses an unsupported compression method (use deflate)"
    extension = info.filename.rsplit(".", 1)[-1].lower() if "." in info.filename else ""
    if not info.is_dir() and extension in ARCHIVE_EXTENSIONS:
        return "entry is an archive inside the archive: nested archives are refused"
    return None


def _size_problem(info: zipfile.ZipInfo) -> str | None:
    """Why the entry's declared sizes are refused (too large, or a zip-bomb ratio), or None."""
    limit = size_limit(info.filename)
    if info.file_size > limit:
        return f"entry is too large ({info.file_size:,} bytes; the limit is {limit:,})"
    if info.file_size >= RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return (f"entry compresses {info.file_size // max(info.compress_size, 1):,} to 1 "
                f"(at most {MAX_RATIO} to 1 is accepted): it looks like a zip bomb")
    return None


def _key(name: str) -> str:
    """The name as a case-insensitive file system would see it."""
    return unicodedata.normalize("NFC", name.rstrip("/")).casefold()


def inspect(archive: zipfile.ZipFile, archive_size: int) -> tuple[str | None, list[Problem]]:
    """Check the central directory: the course slug it holds and every problem found."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        return None, [Problem(ARCHIVE, 1, f"the archive has {len(infos):,} entries; at most "
                                          f"{MAX_ENTRIES:,} are accepted")]
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    folders: set[str] = set()
    slugs: set[str] = set()
    declared = 0
    for info in infos:
        shown = shown_name(info.orig_filename)  # zipfile cuts filename at a NUL byte
        reason = _name_problem(info.orig_filename) or _type_problem(info) or _size_problem(info)
        if reason:
            problems.append(Problem(shown, 1, reason))
            continue
        key = _key(info.filename)
        if key in seen:
            problems.append(Problem(shown, 1, f"duplicate entry: '{shown_name(seen[key])}' has "
                                              "the same name (ignoring case and accents form)"))
            continue
        seen[key] = info.filename
        parts = key.split("/")
        folders.update("/".join(parts[:end]) for end in range(1, len(parts)))
        if info.is_dir():
            folders.add(key)
        if len(parts) >= 2:
            slugs.add(info.filename.split("/")[1])
        if not info.is_dir():
            declared += info.file_size
    problems += [Problem(shown_name(seen[key]), 1, "entry is both a file and a folder")
                 for key in sorted(set(seen) & folders)
                 if not seen[key].endswith("/")]
    if declared > MAX_TOTAL_BYTES:
        problems.append(Problem(ARCHIVE, 1, f"the files add up to {declared:,} bytes; at most "
                                            f"{MAX_TOTAL_BYTES:,} are accepted"))
    elif declared >= RATIO_FLOOR and declared > MAX_RATIO * max(archive_size, 1):
        problems.append(Problem(ARCHIVE, 1, "the archive inflates more than "
                                            f"{MAX_RATIO} to 1: it looks like a zip bomb"))
    if len(slugs) > 1:
        problems.append(Problem(ARCHIVE, 1, "the archive holds more than one course ("
                                            + ", ".join(sorted(slugs)) + "); import one at a time"))
    elif not slugs and not problems:
        problems.append(Problem(ARCHIVE, 1, "the archive holds no course folder"))
    return (next(iter(slugs)) if len(slugs) == 1 else None), problems


def _extract(archive: zipfile.ZipFile, root: Path) -> int:
    """Stream every file into ``root``, counting real bytes; return the total inflated."""
    total = 0
    for info in archive.infolist():
        parts = info.filename.rstrip("/").split("/")
        target = root.joinpath(*parts)
        if os.path.commonpath([root, target]) != str(root):  # checked already; never trusted
            raise ArchiveError([Problem(shown_name(info.filename), 1, "entry leaves the folder")])
        if info.is_dir():
            target.mkdir(mode=0o700, parents=True, exist_ok=True)
            continue
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        limit = min(size_limit(info.filename), info.file_size)
        written = 0
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        with os.fdopen(fd, "wb") as out, archive.open(info) as source:
            while chunk := source.read(_CHUNK):
                if written == 0 and chunk.startswith(ARCHIVE_MAGIC):
                    raise ArchiveError([Problem(shown_name(info.filename), 1, "entry is an "
                                                "archive inside the archive: nested archives "
                                                "are refused")])
                written += len(chunk)
                total += len(chunk)
                if written > limit or total > MAX_TOTAL_BYTES:
                    raise ArchiveError([Problem(shown_name(info.filename), 1, "entry inflates "
                                                "to more bytes than its header says: refused")])
                out.write(chunk)
    return total


def _open(data: bytes) -> zipfile.ZipFile:
    if len(data) > MAX_ZIP_BYTES:
        raise ArchiveError([Problem(ARCHIVE, 1, f"the archive is {len(data):,} bytes; at most "
                                                f"{MAX_ZIP_BYTES:,} are accepted")])
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise ArchiveError([Problem(ARCHIVE, 1, "the file is not a readable zip archive")]) \
            from None


def import_zip(data: bytes, lesson_index: dict[str, set[str]] | None = None,
               scratch: Path | None = None) -> ZipImport:
    """Check, extract into a fresh temporary folder and load one course zip.

    ``lesson_index`` names the other courses' lessons, so links between courses
    check as they would in the catalogue. Raises ``ArchiveError`` for any refusal;
    the returned load carries the loader's own problems (``path:line``).
    """
    with _open(data) as archive:
        slug, problems = inspect(archive, len(data))
        if problems or slug is None:
            raise ArchiveError(problems)
        with tempfile.TemporaryDirectory(prefix="waymark-zip-", dir=scratch) as folder:
            root = Path(folder).resolve()
            try:
                inflated = _extract(archive, root)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                    RuntimeError, ValueError) as exc:
                raise ArchiveError([Problem(ARCHIVE, 1, f"the archive is damaged: {exc}")]) \
                    from None
            except OSError as exc:
                raise ArchiveError([Problem(ARCHIVE, 1, "an entry could not be extracted: "
                                                        f"{exc.strerror}")]) from None
            index = dict(lesson_index or {})
            course_dir = root / "courses" / slug
            index[slug] = {p.stem for p in course_dir.glob("*.md")
                           if p.name not in ("course.md", "README.md")}
            load = load_course(course_dir, root / "quizzes" / slug, index)
            base_hash = _marker(course_dir / MARKER, slug)
    return ZipImport(slug, load, len(archive.infolist()), inflated, base_hash)


def _marker(path: Path, slug: str) -> str | None:
    """The version hash an export left in the zip, or None; a bad marker is refused."""
    if not path.is_file():
        return None
    text = path.read_bytes()[:200].decode("ascii", errors="replace").strip()
    if not _HASH.fullmatch(text):
        raise ArchiveError([Problem(f"courses/{slug}/{MARKER}", 1, "not a version hash; "
                                    "export the course again")])
    return text
