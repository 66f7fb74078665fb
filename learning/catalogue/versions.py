"""A course's version history: list, compare any two, roll back, and export as a zip.

History is never rewritten: a rollback publishes the old content as a new
version with the next number, so attempts and certificates keep pointing at the
version they were made on.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from learning.accounts.models import User
from learning.audit.service import record_audit
from learning.catalogue.archive import MARKER, ArchiveError, build_zip, import_zip
from learning.catalogue.models import Course, CourseVersion, MediaAsset
from learning.catalogue.publishing import publish_course
from learning.extensions import db

MAX_DIFF_LINES = 3000  # shown for one comparison; the rest is summarised
MAX_DIFF_FILE_LINES = 5000  # files longer than this are not compared line by line
ROLLBACK_ACTION = "course.rollback"


class VersionError(Exception):
    """A version operation that cannot be done as asked (shown to the user)."""


@dataclass(frozen=True)
class HistoryRow:
    """One version as the history page lists it."""

    version: CourseVersion
    current: bool
    who: str | None  # who published it, when the audit log says
    origin: str | None  # "sync", "rollback", "import", ... when recorded


@dataclass
class FileDiff:
    """One file's change between two versions: unified diff lines as (kind, text)."""

    path: str
    status: str  # "added", "removed" or "changed"
    lines: list[tuple[str, str]] = field(default_factory=list)  # kind: hunk, add, remove, same
    note: str | None = None  # why lines are missing (too long, cap reached)


@dataclass
class VersionDiff:
    """What changed from one version to another (or from a version to a draft, where
    ``old`` and ``new`` are None), file by file, and which images."""

    old: CourseVersion | None
    new: CourseVersion | None
    files: list[FileDiff] = field(default_factory=list)
    assets_added: list[str] = field(default_factory=list)
    assets_removed: list[str] = field(default_factory=list)
    assets_changed: list[str] = field(default_factory=list)
    capped: bool = False

    @property
    def unchanged(self) -> bool:
        return not (self.files or self.assets_added or self.assets_removed
                    or self.assets_changed)


def find_course_by_slug(slug: str) -> Course | None:
    """The course with this slug, published or not."""
    return db.session.scalar(sa.select(Course).where(Course.slug == slug))


def version_by_number(course: Course, number: int) -> CourseVersion | None:
    """One version of ``course`` by its number, or None."""
    return db.session.scalar(sa.select(CourseVersion).where(
        CourseVersion.course_id == course.id, CourseVersion.number == number))


def history(course: Course) -> list[HistoryRow]:
    """Every version of the course, newest first, with who published it when known."""
    rows = db.session.execute(
        sa.select(CourseVersion, User.display_name)
        .outerjoin(User, User.id == CourseVersion.published_by)
        .where(CourseVersion.course_id == course.id).order_by(CourseVersion.number.desc()))
    return [HistoryRow(version, version.id == course.current_version_id, name, version.origin)
            for version, name in rows]


def _file_diff(path: str, old: str | None, new: str | None, budget: int) -> FileDiff:
    status = "added" if old is None else "removed" if new is None else "changed"
    result = FileDiff(path, status)
    old_lines, new_lines = (old or "").splitlines(), (new or "").splitlines()
    if max(len(old_lines), len(new_lines)) > MAX_DIFF_FILE_LINES:
        result.note = "too_long"
        return result
    for line in list(difflib.unified_diff(old_lines, new_lines, lineterm="", n=3))[2:]:
        if len(result.lines) >= budget:
            result.note = "capped"
            break
        kind = {"@": "hunk", "+": "add", "-": "remove"}.get(line[:1], "same")
        result.lines.append((kind, line[1:] if kind != "hunk" else line))
    return result


def diff_versions(old: CourseVersion, new: CourseVersion) -> VersionDiff:
    """Per-file unified diffs (capped at ``MAX_DIFF_LINES`` in all) and changed images."""
    diff = diff_contents(old.files, new.files, old.assets, new.assets)
    diff.old, diff.new = old, new
    return diff


def diff_contents(old_files: Mapping[str, str], new_files: Mapping[str, str],
                  old_assets: Mapping[str, str], new_assets: Mapping[str, str]) -> VersionDiff:
    """``diff_versions`` for any two sets of files and images (a version and a draft)."""
    diff = VersionDiff(None, None)
    budget = MAX_DIFF_LINES
    for path in sorted(set(old_files) | set(new_files)):
        before, after = old_files.get(path), new_files.get(path)
        if before == after:
            continue
        file_diff = _file_diff(path, before, after, budget)
        budget -= len(file_diff.lines)
        diff.capped = diff.capped or file_diff.note == "capped"
        diff.files.append(file_diff)
    for path in sorted(set(old_assets) | set(new_assets)):
        before, after = old_assets.get(path), new_assets.get(path)
        if before is None:
            diff.assets_added.append(path)
        elif after is None:
            diff.assets_removed.append(path)
        elif before != after:
            diff.assets_changed.append(path)
    return diff


def version_entries(version: CourseVersion) -> list[tuple[str, bytes]]:
    """Every file of a version as (path under the content root, bytes), images included."""
    entries = [(path, text.encode("utf-8")) for path, text in version.files.items()]
    assets = {asset.sha256: asset.data for asset in db.session.scalars(
        sa.select(MediaAsset).where(MediaAsset.sha256.in_(set(version.assets.values()))))}
    base = f"courses/{version.course.slug}"
    entries += [(f"{base}/{path}", assets[sha256]) for path, sha256 in version.assets.items()]
    return sorted(entries)


def export_zip(version: CourseVersion) -> bytes:
    """The version as a zip of courses/<slug>/... and quizzes/<slug>/..., byte-for-byte stable.

    Like ``flask content export``, the course folder carries the hidden marker naming
    the version, so the zip, edited and imported again, counts as based on it.
    """
    marker = (f"courses/{version.course.slug}/{MARKER}", f"{version.content_hash}\n".encode())
    return build_zip([*version_entries(version), marker])


def zip_name(version: CourseVersion) -> str:
    """The download's file name: course, version number and short hash."""
    return f"{version.course.slug}-v{version.number}-{version.short_hash}.zip"


def next_number(course: Course) -> int:
    """The number the course's next version will get."""
    return (db.session.scalar(sa.select(sa.func.max(CourseVersion.number))
                              .where(CourseVersion.course_id == course.id)) or 0) + 1


def published_lesson_index() -> dict[str, set[str]]:
    """Each published course's lesson slugs, so links between courses check in a lone course."""
    rows = db.session.execute(sa.select(Course.slug, CourseVersion.outline).join(
        CourseVersion, CourseVersion.id == Course.current_version_id))
    return {slug: {lesson["slug"] for module in outline for lesson in module["lessons"]}
            for slug, outline in rows}


def check_rollback(course: Course, version: CourseVersion) -> None:
    """VersionError unless ``version`` is an older version of ``course``."""
    if version.course_id != course.id:
        raise VersionError("That version belongs to another course.")
    current = course.current_version
    if current is not None and current.id == version.id:
        raise VersionError("That version is already the current one.")


def rollback(actor: User, course: Course, version: CourseVersion) -> CourseVersion:
    """Publish ``version``'s content again as a new, current version (the caller commits).

    The stored files go through the zip export and import, so the rollback is
    published like any other version (origin "rollback"; changed lessons are
    substantive, so officers re-read what the rollback changes).
    """
    check_rollback(course, version)
    current = course.current_version
    try:
        loaded = import_zip(export_zip(version), published_lesson_index())
    except ArchiveError as exc:
        raise VersionError("; ".join(map(str, exc.problems))) from None
    if loaded.load.course is None:
        problems = "; ".join(map(str, loaded.load.errors))
        raise VersionError(f"Version {version.number} no longer passes the checks: {problems}")
    created, _outcome = publish_course(loaded.load.course, origin="rollback", actor=actor)
    record_audit(actor, ROLLBACK_ACTION, target=course.slug, details={
        "version": created.number, "content_of": version.number,
        "replaced": current.number if current else None, "hash": version.short_hash})
    return created
