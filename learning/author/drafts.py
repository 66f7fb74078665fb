"""Drafts: course files edited in the database, saved with compare-and-set, checked by the
same loader as ``flask content check`` so the browser and the files have one code path."""

from __future__ import annotations

import difflib
import hashlib
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from learning.accounts.models import User
from learning.author.models import OPEN_STATES, CourseDraft
from learning.catalogue.models import Course, CourseVersion, MediaAsset
from learning.content import CourseLoad, load_course
from learning.content.loader import RESERVED_LESSON_SLUGS
from learning.content.safety import MAX_TEXT_BYTES, is_image
from learning.content.schema import SLUG
from learning.content.translations import split_name
from learning.extensions import db
from learning.timeutil import utcnow

MAX_FILES = 300  # files in one draft: far more than any course holds
_NAME = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_LESSON_PATH = re.compile(rf"courses/({_NAME})/({_NAME})\.md")
_QUIZ_PATH = re.compile(rf"quizzes/({_NAME})/({_NAME})\.yaml")
_ASSET_PATH = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9._-]*/)*[A-Za-z0-9_][A-Za-z0-9._-]*")


class DraftError(ValueError):
    """A request a draft cannot take (bad path, too large, wrong state); nothing changed."""


@dataclass(frozen=True)
class SaveResult:
    """What a save did: saved at ``revision``, or refused with the other text and a diff."""

    saved: bool
    revision: int
    theirs: str | None = None
    diff: str = ""
    first_save: bool = False  # this person's first save of the draft (audited)
    reopened: bool = False  # a draft in review or approved went back to draft


def digest(text: str | None) -> str:
    """The short fingerprint of a file's text that a form sends back (empty for no file)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16] if text is not None else ""


def normalise(text: str) -> str:
    """Browsers send textarea text with CRLF; files use LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def file_kind(course_slug: str, path: str) -> str | None:
    """"course", "lesson" or "quiz" for a path a draft of this course may hold, else None."""
    if path == f"courses/{course_slug}/course.md":
        return "course"
    match = _LESSON_PATH.fullmatch(path)
    if match and match.group(1) == course_slug and match.group(2) not in RESERVED_LESSON_SLUGS:
        return "lesson"
    match = _QUIZ_PATH.fullmatch(path)
    if match and match.group(1) == course_slug:
        return "quiz"
    return None


def carried(course_slug: str, path: str) -> bool:
    """A translation file (``first-steps.fr.md``): the browser does not edit them, but every
    draft publishes them with the rest (a changed source leaves them stale, never lost)."""
    folder, _, name = path.rpartition("/")
    return folder in (f"courses/{course_slug}", f"quizzes/{course_slug}") and \
        split_name(name) is not None


def open_draft_for(course_slug: str) -> CourseDraft | None:
    """The course's open draft (draft, in review or approved), if any."""
    return db.session.scalar(sa.select(CourseDraft).where(
        CourseDraft.course_slug == course_slug, CourseDraft.state.in_(OPEN_STATES)))


def open_draft(course_slug: str, user: User) -> tuple[CourseDraft, bool]:
    """The open draft of a published course, or a new one from its current version's files.

    Returns (draft, created). Raises LookupError when the course is not published.
    """
    existing = open_draft_for(course_slug)
    if existing is not None:
        return existing, False
    version = db.session.scalar(
        sa.select(CourseVersion).join(Course, Course.current_version_id == CourseVersion.id)
        .where(Course.slug == course_slug).options(sa.orm.undefer(CourseVersion.files),
                                                   sa.orm.undefer(CourseVersion.assets)))
    if version is None:
        raise LookupError(course_slug)
    return _create(course_slug, dict(version.files), dict(version.assets), user, version)


def new_course_draft(course_slug: str, files: dict[str, str], user: User) -> CourseDraft:
    """A draft of a course that does not exist yet (slug unused by courses and drafts)."""
    if not SLUG.fullmatch(course_slug) or len(course_slug) > 100:
        raise DraftError("slug")
    taken = db.session.scalar(sa.select(Course.id).where(Course.slug == course_slug))
    if taken is not None or open_draft_for(course_slug) is not None:
        raise DraftError("taken")
    draft, created = _create(course_slug, files, {}, user, None)
    if not created:
        raise DraftError("taken")
    return draft


def _create(course_slug: str, files: dict[str, str], assets: dict[str, str], user: User,
            version: CourseVersion | None) -> tuple[CourseDraft, bool]:
    draft = CourseDraft(course_slug=course_slug, files=files, assets=assets, revision=1,
                        state="draft", author_id=user.id, contributors=[],
                        base_version_id=version.id if version else None,
                        base_hash=version.content_hash if version else None)
    try:
        with db.session.begin_nested():
            db.session.add(draft)
    except IntegrityError:  # another trainer opened it at the same moment
        return open_draft_for(course_slug), False
    return draft, True


def _check_text(draft: CourseDraft, path: str, text: str) -> None:
    if draft.state not in OPEN_STATES:
        raise DraftError("state")
    if file_kind(draft.course_slug, path) is None:
        raise DraftError("path")
    if len(text.encode()) > MAX_TEXT_BYTES:
        raise DraftError("size")


def save_file(draft: CourseDraft, path: str, text: str, expected_revision: int,
              base_digest: str, user: User) -> SaveResult:
    """Write one file if the draft is still at ``expected_revision``, or if this file is
    unchanged since the text the editor started from (``base_digest``); else refuse with
    the other text and a diff, writing nothing. The caller commits."""
    text = normalise(text)
    _check_text(draft, path, text)
    row = db.session.execute(sa.select(CourseDraft.revision, CourseDraft.files, CourseDraft.state,
                                       CourseDraft.contributors)
                             .where(CourseDraft.id == draft.id)).one()
    theirs = row.files.get(path)
    if row.revision != expected_revision and digest(theirs) != base_digest:
        return _conflict(row.revision, theirs, text)
    if path not in row.files and len(row.files) >= MAX_FILES:
        raise DraftError("size")
    files = {**row.files, path: text}
    contributors = sorted(set(row.contributors) | {user.id})
    reopened = row.state != "draft"
    values = {"files": files, "revision": row.revision + 1, "updated_at": utcnow(),
              "contributors": contributors}
    if reopened:
        values |= {"state": "draft", "reviewer_id": None}
    result = db.session.execute(
        sa.update(CourseDraft).where(CourseDraft.id == draft.id,
                                     CourseDraft.revision == row.revision)
        .values(**values).execution_options(synchronize_session=False))
    db.session.expire(draft)
    if result.rowcount != 1:  # someone saved between our read and our write
        latest = db.session.execute(sa.select(CourseDraft.revision, CourseDraft.files)
                                    .where(CourseDraft.id == draft.id)).one()
        return _conflict(latest.revision, latest.files.get(path), text)
    return SaveResult(True, row.revision + 1, first_save=user.id not in row.contributors,
                      reopened=reopened)


def _conflict(revision: int, theirs: str | None, yours: str) -> SaveResult:
    diff = "\n".join(difflib.unified_diff(
        (theirs or "").splitlines(), yours.splitlines(), "saved by someone else", "yours",
        lineterm=""))
    return SaveResult(False, revision, theirs, diff)


def add_files(draft: CourseDraft, new: dict[str, str], user: User,
              updates: dict[str, str] | None = None) -> int:
    """Add new files (never overwriting one), optionally changing existing ones in the
    same write (course.md gains a new lesson); the caller commits."""
    for path, text in {**new, **(updates or {})}.items():
        _check_text(draft, path, text)
        if path in new and path in draft.files:
            raise DraftError("exists")
    if len(draft.files) + len(new) > MAX_FILES:
        raise DraftError("size")
    return _write(draft, user, {**draft.files, **(updates or {}), **new}, draft.assets)


def add_image(draft: CourseDraft, path: str, markdown: str, rel_path: str, sha256: str,
              user: User) -> int:
    """Record an uploaded image and append its Markdown to one file; the caller commits."""
    text = draft.files.get(path)
    if text is None:
        raise DraftError("path")
    new = text.rstrip("\n") + "\n\n" + markdown + "\n"
    _check_text(draft, path, new)
    return _write(draft, user, {**draft.files, path: new}, {**draft.assets, rel_path: sha256})


def _write(draft: CourseDraft, user: User, files: dict[str, str],
           assets: dict[str, str]) -> int:
    """Replace files and assets if nobody saved since the draft was read (compare-and-set)."""
    values = {"files": files, "assets": assets, "revision": draft.revision + 1,
              "updated_at": utcnow(),
              "contributors": sorted(set(draft.contributors) | {user.id})}
    if draft.state != "draft":
        values |= {"state": "draft", "reviewer_id": None}
    result = db.session.execute(
        sa.update(CourseDraft).where(CourseDraft.id == draft.id,
                                     CourseDraft.revision == draft.revision)
        .values(**values).execution_options(synchronize_session=False))
    db.session.expire(draft)
    if result.rowcount != 1:
        raise DraftError("stale")
    return values["revision"]


def published_lesson_index() -> dict[str, set[str]]:
    """Every published course's lesson slugs, for checking links between courses."""
    rows = db.session.execute(sa.select(Course.slug, CourseVersion.outline).join(
        CourseVersion, CourseVersion.id == Course.current_version_id))
    return {slug: {lesson["slug"] for module in outline for lesson in module["lessons"]}
            for slug, outline in rows}


def lesson_slugs(course_slug: str, files: dict[str, str]) -> set[str]:
    """The lessons a draft's files hold."""
    return {path.rsplit("/", 1)[-1][:-3] for path in files
            if file_kind(course_slug, path) == "lesson"}


def check_files(course_slug: str, files: dict[str, str], assets: dict[str, str],
                today: date | None = None, translations: bool = False) -> CourseLoad:
    """Load a draft's files exactly as ``content check`` loads a course folder.

    The files are written into a fresh temporary folder (paths were checked when saved
    and are checked again here), so every problem carries the file's path and line.
    """
    index = published_lesson_index()
    index[course_slug] = lesson_slugs(course_slug, files)
    blobs = {a.sha256: a.data for a in db.session.scalars(
        sa.select(MediaAsset).where(MediaAsset.sha256.in_(set(assets.values()))))}
    with tempfile.TemporaryDirectory(prefix="waymark-draft-") as tmp:
        root = Path(tmp)
        course_dir = root / "courses" / course_slug
        course_dir.mkdir(parents=True)
        for path, text in files.items():
            if file_kind(course_slug, path) is None and not (
                    translations and carried(course_slug, path)):
                continue
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for rel, sha256 in assets.items():
            if _ASSET_PATH.fullmatch(rel) and is_image(rel) and sha256 in blobs:
                (course_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                (course_dir / rel).write_bytes(blobs[sha256])
        return load_course(course_dir, root / "quizzes" / course_slug, index, today)


def check_draft(draft: CourseDraft, overlay: dict[str, str] | None = None) -> CourseLoad:
    """Check the draft as saved, or with some files replaced by unsaved text."""
    return check_files(draft.course_slug, {**draft.files, **(overlay or {})}, draft.assets,
                       translations=True)


def base_version(draft: CourseDraft) -> CourseVersion | None:
    """The published version the draft was opened from (None for a new course)."""
    if draft.base_version_id is None:
        return None
    return db.session.get(CourseVersion, draft.base_version_id)


def changed_paths(draft: CourseDraft) -> list[str]:
    """Files the draft adds, changes or removes compared with its base version."""
    version = base_version(draft)
    base = dict(version.files) if version else {}
    return sorted(p for p in set(base) | set(draft.files) if base.get(p) != draft.files.get(p))
