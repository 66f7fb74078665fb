"""Syncing course files into published versions, exporting them, reading the catalogue."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.catalogue.models import Course, CourseVersion, Lesson, MediaAsset
from learning.catalogue.publishing import (
    PublishError,
    PublishPlan,
    check_base,
    plan_publish,
    publish_course,
)
from learning.content import CatalogueLoad, Problem, load_catalogue
from learning.extensions import db

__all__ = ["MARKER", "SyncReport", "change_notes", "export_version", "find_course",
           "is_published_media", "media_asset", "publish_course", "published_courses",
           "sync_catalogue"]

MARKER = ".published-hash"  # hidden, so the loader skips it: not content, not hashed


class MarkerError(ValueError):
    """A course folder's export marker cannot be trusted."""


@dataclass
class SyncReport:
    """What a sync did, course by course."""

    created: list[tuple[str, int]] = field(default_factory=list)  # (slug, version number)
    switched: list[tuple[str, int]] = field(default_factory=list)  # back to an older version
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (slug, why): not based on
    # the latest published version, or a publishing choice that does not fit the change
    newer: list[str] = field(default_factory=list)  # refused: the database holds a newer version
    plans: list[PublishPlan] = field(default_factory=list)  # --plan: what would be published
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed and not self.refused


def read_marker(course_dir: Path) -> str | None:
    """The version hash an export left in the course folder, or None (never follows links)."""
    try:
        fd = os.open(course_dir / MARKER, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MarkerError(f"{course_dir.name}/{MARKER}: cannot be read ({exc.strerror})") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MarkerError(f"{course_dir.name}/{MARKER}: not a regular file")
        text = os.read(fd, 200).decode("ascii", errors="replace").strip()
    finally:
        os.close(fd)
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise MarkerError(f"{course_dir.name}/{MARKER}: not a version hash; export the course "
                          "again")
    return text


def write_marker(course_dir: Path, content_hash: str) -> None:
    """Record in the course folder which published version its files are based on."""
    course_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / MARKER).write_text(content_hash + "\n", encoding="ascii")


def sync_catalogue(courses_dir: Path, quizzes_dir: Path | None = None,
                   catalogue: CatalogueLoad | None = None, *,
                   significance: Mapping[str, Mapping[str, str]] | None = None,
                   notes: Mapping[str, Mapping[str, str]] | None = None,
                   recertify: Iterable[str] = (), plan_only: bool = False) -> SyncReport:
    """Publish every valid course folder based on the latest version; each all or nothing.

    ``significance`` and ``notes`` are per course, then per lesson. A course whose
    files are not based on its current published version is refused, never
    published over it. With ``plan_only`` nothing is written: the report holds plans.
    """
    catalogue = catalogue or load_catalogue(courses_dir, quizzes_dir)
    report = SyncReport(problems=catalogue.problems)
    significance, notes, recertify = significance or {}, notes or {}, set(recertify)
    for load in catalogue.loads:
        if load.course is None:
            report.failed.append(load.slug)
            continue
        course_dir = courses_dir / load.slug
        try:
            marker = read_marker(course_dir)
        except MarkerError as exc:
            report.refused.append((load.slug, str(exc)))
            continue
        base = check_base(load.slug, load.course, marker)
        if not base.ok:
            report.refused.append((load.slug, base.message))
            report.newer.append(load.slug)
            continue
        if plan_only:
            report.plans.append(plan_publish(load.course))
            continue
        try:
            version, outcome = publish_course(
                load.course, significance=significance.get(load.slug),
                notes=notes.get(load.slug), recertify=load.slug in recertify, origin="files")
            db.session.commit()
        except PublishError as exc:
            db.session.rollback()
            report.refused.append((load.slug, str(exc)))
            continue
        except Exception:
            db.session.rollback()
            raise
        if marker is not None and marker != version.content_hash:
            write_marker(course_dir, version.content_hash)
        if outcome == "created":
            report.created.append((load.slug, version.number))
        elif outcome == "switched":
            report.switched.append((load.slug, version.number))
        else:
            report.unchanged.append(load.slug)
    return report


def export_version(version: CourseVersion, destination: Path) -> list[Path]:
    """Write a stored version back to files, exactly as they were imported.

    The course folder also gets a hidden marker naming the version, so a later
    ``content sync`` of the edited files knows what they were based on.
    """
    written = []
    for relative, text in sorted(version.files.items()):
        path = destination / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    course_dir = destination / "courses" / version.course.slug
    for relative, sha256 in sorted(version.assets.items()):
        asset = db.session.get(MediaAsset, sha256)
        path = course_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(asset.data)
        written.append(path)
    write_marker(course_dir, version.content_hash)
    return written


def published_courses() -> list[tuple[Course, CourseVersion]]:
    """Every course with a current version, by title, in one query."""
    rows = db.session.execute(
        sa.select(Course, CourseVersion)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
        .order_by(CourseVersion.title)
    )
    return [(course, version) for course, version in rows]


def find_course(slug: str) -> tuple[Course, CourseVersion] | None:
    """The course and its current version (with its overview), in one query, or None."""
    row = db.session.execute(
        sa.select(Course, CourseVersion)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
        .options(so.undefer(CourseVersion.overview_html), so.undefer(CourseVersion.sources_html))
        .where(Course.slug == slug)
    ).first()
    return (row[0], row[1]) if row else None


def change_notes(version_id: int, slugs: Iterable[str]) -> dict[str, str | None]:
    """Lesson slug -> the "what changed" note of its last substantive change (one query)."""
    wanted = list(slugs)
    if not wanted:
        return {}
    return dict(db.session.execute(
        sa.select(Lesson.slug, Lesson.change_note)
        .where(Lesson.version_id == version_id, Lesson.slug.in_(wanted))).all())


_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_published_media(sha256: str) -> bool:
    """True when a published version holds this image (so anyone who reads courses may)."""
    if not _SHA256.fullmatch(sha256):
        return False
    rows = db.session.scalars(sa.select(CourseVersion.assets).where(
        sa.cast(CourseVersion.assets, sa.Text).contains(f'"{sha256}"')))
    return any(sha256 in (assets or {}).values() for assets in rows)


def media_asset(sha256: str) -> MediaAsset | None:
    """A published image by its hash; a draft's images are served by the author pages only."""
    return db.session.get(MediaAsset, sha256) if is_published_media(sha256) else None
