"""Publishing a course from an uploaded zip: check, preview, confirm.

The zip is checked and loaded by ``archive.import_zip`` (a fresh temporary folder,
the normal loader); only a clean load may be confirmed, and the confirmation
publishes through ``publish_course`` like ``flask content sync``, provided the
course has not moved on since the preview.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from learning.accounts.models import User
from learning.audit.service import record_audit
from learning.catalogue.archive import ArchiveError, ZipImport, import_zip
from learning.catalogue.import_models import PendingCourseImport
from learning.catalogue.models import Course, CourseVersion
from learning.catalogue.publishing import PublishError, check_base, publish_course
from learning.catalogue.versions import published_lesson_index
from learning.content.problems import Problem
from learning.extensions import db
from learning.timeutil import utcnow

IMPORT_ACTION = "course.import_zip"
PENDING_LIFETIME = timedelta(days=1)


@dataclass
class ZipPreview:
    """What an uploaded zip would change, or every reason it cannot be imported."""

    sha256: str
    slug: str | None = None
    problems: list[Problem] = field(default_factory=list)  # errors and warnings
    current: CourseVersion | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    same_as_current: bool = False
    pending: PendingCourseImport | None = None
    files: dict[str, str] = field(default_factory=dict)  # path -> text, when it loaded
    assets: dict[str, str] = field(default_factory=dict)  # image path -> SHA-256

    @property
    def ok(self) -> bool:
        return self.slug is not None and not any(p.severity == "error" for p in self.problems)


def load_zip(data: bytes) -> tuple[ZipImport | None, list[Problem]]:
    """The zip loaded (or None) and every problem, archive and content alike."""
    try:
        loaded = import_zip(data, published_lesson_index())
    except ArchiveError as exc:
        return None, exc.problems
    problems = sorted(loaded.load.problems)
    if loaded.load.course is not None:
        base = check_base(loaded.slug, loaded.load.course, loaded.base_hash)
        if not base.ok:  # the rule sync follows: only files based on the latest version
            problems.append(Problem(f"courses/{loaded.slug}", 1, base.message))
    return loaded, problems


def _compare(preview: ZipPreview, loaded: ZipImport) -> None:
    course = db.session.scalar(sa.select(Course).where(Course.slug == loaded.slug))
    preview.current = course.current_version if course else None
    files = loaded.load.course
    if files is not None:
        preview.files = dict(files.files)
        preview.assets = {asset.path: asset.sha256 for asset in files.assets}
    if preview.current is None or files is None:
        return
    before = {**preview.current.files, **{f"courses/{loaded.slug}/{path}": sha
                                          for path, sha in preview.current.assets.items()}}
    after = {**dict(files.files), **{f"courses/{loaded.slug}/{a.path}": a.sha256
                                     for a in files.assets}}
    preview.added = sorted(set(after) - set(before))
    preview.removed = sorted(set(before) - set(after))
    preview.changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    preview.same_as_current = files.content_hash == preview.current.content_hash


def preview_zip(uploader: User, data: bytes) -> ZipPreview:
    """Check an upload; when it is clean, keep it (replacing this trainer's earlier one)."""
    preview = ZipPreview(sha256=hashlib.sha256(data).hexdigest())
    loaded, preview.problems = load_zip(data)
    if loaded is None:
        return preview
    preview.slug = loaded.slug
    _compare(preview, loaded)
    if not preview.ok:
        return preview
    db.session.execute(sa.delete(PendingCourseImport).where(sa.or_(
        PendingCourseImport.uploaded_by == uploader.id,
        PendingCourseImport.created_at < utcnow() - PENDING_LIFETIME)))
    preview.pending = PendingCourseImport(
        uploaded_by=uploader.id, course_slug=loaded.slug, sha256=preview.sha256, content=data,
        base_version_id=preview.current.id if preview.current else None)
    db.session.add(preview.pending)
    db.session.commit()
    return preview


class ZipImportError(Exception):
    """A confirmation that cannot proceed; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def publish_zip(files_load: ZipImport, actor: User | None) -> tuple[CourseVersion, str]:
    """Publish a clean zip load as ``flask content sync`` would, audited (the caller commits)."""
    if files_load.load.course is None:
        raise ZipImportError(list(files_load.load.errors))
    try:
        version, outcome = publish_course(files_load.load.course, origin="import", actor=actor)
    except PublishError as exc:
        raise ZipImportError([Problem(f"courses/{files_load.slug}", 1, str(exc))]) from None
    record_audit(actor, IMPORT_ACTION, target=files_load.slug,
                 details={"version": version.number, "outcome": outcome,
                          "hash": version.short_hash})
    return version, outcome


def confirm_zip(uploader: User, pending_id: int, sha256: str,
                may_publish: Callable[[str], bool] = lambda _slug: True
                ) -> tuple[CourseVersion, str]:
    """Publish the upload this trainer previewed, if the course is still where it was then.

    ``may_publish(slug)`` says whether the uploader may change an existing course (its
    owners and editors, and admins: the authoring rules live in learning.author).
    """
    pending, loaded = confirmed_upload(uploader, pending_id, sha256, may_publish)
    version, outcome = publish_zip(loaded, uploader)
    db.session.delete(pending)
    return version, outcome


def confirmed_upload(uploader: User, pending_id: int, sha256: str,
                     may_publish: Callable[[str], bool]
                     ) -> tuple[PendingCourseImport, ZipImport]:
    """The upload this trainer previewed, loaded and checked again; ZipImportError if the
    course moved on, the files no longer pass, or the uploader may not change it."""
    pending = db.session.scalar(sa.select(PendingCourseImport).where(
        PendingCourseImport.id == pending_id, PendingCourseImport.uploaded_by == uploader.id,
        PendingCourseImport.created_at >= utcnow() - PENDING_LIFETIME))
    if pending is None or not hmac.compare_digest(pending.sha256, sha256 or ""):
        raise ZipImportError([Problem("upload", 1, "this upload is no longer available; "
                                                   "upload the zip again")])
    course = db.session.scalar(sa.select(Course).where(Course.slug == pending.course_slug))
    if course is not None and not may_publish(course.slug):
        raise ZipImportError([Problem(f"courses/{pending.course_slug}", 1, "only the course's "
                                      "owners and editors (or an admin) may publish it")])
    current_id = course.current_version_id if course else None
    if current_id != pending.base_version_id:
        raise ZipImportError([Problem(f"courses/{pending.course_slug}", 1, "a newer version "
                                      "was published after the preview; upload the zip again "
                                      "to see what it would change now")])
    loaded, problems = load_zip(pending.content)  # checked again: the rules may have changed
    if loaded is None or any(p.severity == "error" for p in problems):
        raise ZipImportError(problems)
    return pending, loaded
