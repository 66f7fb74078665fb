"""Rollbacks and zip imports under the drafts' review rule.

An old version's files, or a zip's, become a draft based on the current version. When
review is required for it (the same rule as any draft: it touches a final, or
``AUTHOR_REVIEW_REQUIRED``), the draft goes straight to review in the name of whoever
asked, so someone else approves it and it is published from the draft's publish page.
Otherwise it is published at once, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from learning.accounts.models import User
from learning.author import review
from learning.author.drafts import DraftError, check_draft, open_draft_for
from learning.author.models import CourseDraft
from learning.catalogue import versions
from learning.catalogue import zip_import as zips
from learning.catalogue.models import Course, CourseVersion, MediaAsset
from learning.content.model import Asset
from learning.extensions import db


@dataclass(frozen=True)
class Outcome:
    """What a rollback or an import did: published a version, or opened a draft in review."""

    version: CourseVersion | None = None
    published: str = ""  # publish_course's outcome when published
    draft: CourseDraft | None = None


def _draft(slug: str, files: dict[str, str], assets: dict[str, str], actor: User,
           current: CourseVersion | None, origin: str) -> CourseDraft:
    """A draft (not yet added) of these files, based on the course's current version."""
    return CourseDraft(course_slug=slug, files=files, assets=assets, revision=1, state="draft",
                       author_id=actor.id, contributors=[], origin=origin,
                       base_version_id=current.id if current else None,
                       base_hash=current.content_hash if current else None)


def _rollback_draft(actor: User, course: Course, version: CourseVersion) -> CourseDraft:
    """A draft (not yet added) of ``version``'s files on top of the current version."""
    return _draft(course.slug, dict(version.files), dict(version.assets), actor,
                  course.current_version, "rollback")


def _to_review(draft: CourseDraft, blobs: tuple[Asset, ...] = ()) -> CourseDraft:
    """Add the draft in review (its images stored); DraftError("open") if one is open."""
    if open_draft_for(draft.course_slug) is not None:
        raise DraftError("open")
    known = set(db.session.scalars(sa.select(MediaAsset.sha256).where(
        MediaAsset.sha256.in_([blob.sha256 for blob in blobs]))))
    for blob in blobs:
        if blob.sha256 not in known:
            db.session.add(MediaAsset(sha256=blob.sha256, extension=blob.extension,
                                      data=blob.data))
            known.add(blob.sha256)
    if check_draft(draft).course is None:
        raise DraftError("problems")
    draft.state = "in_review"
    try:
        with db.session.begin_nested():
            db.session.add(draft)
    except IntegrityError:  # a draft was opened at the same moment
        raise DraftError("open") from None
    return draft


def rollback(actor: User, course: Course, version: CourseVersion,
             review_for_all: bool) -> Outcome:
    """Roll back to ``version``: in review when review is required, else published now.

    VersionError for a version that cannot be rolled back to; DraftError("open") when
    the course already has an open draft, ("problems") when the old files no longer
    pass the checks. The caller audits and commits.
    """
    versions.check_rollback(course, version)
    draft = _rollback_draft(actor, course, version)
    if review.review_required(draft, review_for_all):
        return Outcome(draft=_to_review(draft))
    return Outcome(version=versions.rollback(actor, course, version), published="created")


def rollback_goes_to_review(actor: User, course: Course, version: CourseVersion,
                            review_for_all: bool) -> bool:
    """Whether ``rollback`` would open a draft in review rather than publish: the
    confirmation page says which, and names its button after it."""
    return review.review_required(_rollback_draft(actor, course, version), review_for_all)


def import_goes_to_review(uploader: User, preview: zips.ZipPreview,
                          review_for_all: bool) -> bool:
    """Whether confirming a clean preview would open a draft in review rather than publish."""
    return review.review_required(
        _draft(preview.slug, preview.files, preview.assets, uploader, preview.current,
               "import"), review_for_all)


def confirm_import(uploader: User, pending_id: int, sha256: str,
                   may_publish: Callable[[str], bool], review_for_all: bool) -> Outcome:
    """Confirm a previewed zip: in review when review is required, else published now.

    ZipImportError as ``confirm_zip`` raises it; DraftError("open") when the course
    already has an open draft. The caller audits and commits.
    """
    pending, loaded = zips.confirmed_upload(uploader, pending_id, sha256, may_publish)
    files = loaded.load.course
    current = db.session.scalar(
        sa.select(CourseVersion).join(Course, Course.current_version_id == CourseVersion.id)
        .where(Course.slug == loaded.slug))
    draft = _draft(loaded.slug, dict(files.files), {a.path: a.sha256 for a in files.assets},
                   uploader, current, "import")
    if review.review_required(draft, review_for_all):
        _to_review(draft, files.assets)
        db.session.delete(pending)
        return Outcome(draft=draft)
    version, outcome = zips.publish_zip(loaded, uploader)
    db.session.delete(pending)
    return Outcome(version=version, published=outcome)
