"""Publishing a course version: what changes, whom it affects, and whether files may publish.

The published versions in the database are the truth. Every changed lesson is
*editorial* (wording: progress, attempts and certificates untouched) or
*substantive* (officers who completed it are asked to re-read it and told what
changed); asking current holders to recertify is a separate, explicit choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from learning.accounts.models import User
from learning.audit.service import record_audit
from learning.catalogue.changes import SIGNIFICANCE, LessonChange
from learning.catalogue.impact import (
    PublishPlan,
    course_by_slug,
    current_of,
    old_states,
    plan_publish,
)
from learning.catalogue.models import Course, CourseVersion, Lesson, MediaAsset
from learning.catalogue.translated import render_translations
from learning.certificates.models import Certificate
from learning.content import Course as CourseFiles
from learning.content.render import (
    link_rewriter,
    render_course_texts,
    render_inline,
    render_variants,
)
from learning.extensions import db
from learning.signals import certificates_changed
from learning.timeutil import utcnow

__all__ = ["BaseCheck", "LessonChange", "PublishError", "PublishPlan", "check_base",
           "plan_publish", "publish_course"]

ORIGINS = ("files", "browser", "import", "rollback")
RECERTIFY_WITHIN_DAYS = 90  # default time holders get to recertify after a change that needs it


class PublishError(ValueError):
    """A publish request that cannot be carried out; nothing was written."""


@dataclass(frozen=True)
class BaseCheck:
    """Whether files may be published over the course's current version, and why not."""

    ok: bool
    reason: str  # new | unchanged | based_on_current | files | newer_version
    current: CourseVersion | None = None
    message: str = ""


def check_base(course_slug: str, files: CourseFiles | None, base_hash: str | None) -> BaseCheck:
    """May these files be published? Only if based on the latest published version.

    Accepted: a new course; files equal to the current version; files whose
    export marker names the current version; or, without a marker, when the
    current version itself came from files (the shipped catalogue: pull, sync).
    """
    current = current_of(course_slug)
    if current is None:
        return BaseCheck(True, "new")
    if files is not None and files.content_hash == current.content_hash:
        return BaseCheck(True, "unchanged", current)
    if base_hash is not None and base_hash == current.content_hash:
        return BaseCheck(True, "based_on_current", current)
    if base_hash is None and current.origin == "files":
        return BaseCheck(True, "files", current)
    return BaseCheck(False, "newer_version", current, newer_message(course_slug, current))


def newer_message(course_slug: str, current: CourseVersion) -> str:
    """The sync refusal naming the newer version and how to fetch it."""
    how = {"browser": "published in the browser", "import": "imported",
           "rollback": "rolled back", "files": "published from other files"}.get(
        current.origin, f"published ({current.origin})")
    author = db.session.get(User, current.published_by) if current.published_by else None
    by = f" by {author.display_name}" if author is not None else ""
    return (f"{course_slug}: version {current.number} ({how} on "
            f"{current.created_at.date().isoformat()}{by}) is newer than these files; "
            f"run `flask content export {course_slug} --out DIR` and edit those")


def _outline(course: CourseFiles, reading: Mapping[str, str]) -> list[dict]:
    return [
        {
            "title": module.title,
            "lessons": [
                {
                    "slug": slug,
                    "title": course.lesson(slug).title,
                    "minutes": course.lesson(slug).estimated_minutes,
                    "hash": reading[slug],
                }
                for slug in module.lesson_slugs
            ],
        }
        for module in course.modules
    ]


def _store_assets(course: CourseFiles) -> None:
    known = set(db.session.scalars(
        sa.select(MediaAsset.sha256).where(MediaAsset.sha256.in_([a.sha256
                                                                   for a in course.assets]))))
    for asset in course.assets:
        if asset.sha256 not in known:
            db.session.add(MediaAsset(sha256=asset.sha256, extension=asset.extension,
                                      data=asset.data))
            known.add(asset.sha256)


def _significance(plan: PublishPlan, given: Mapping[str, str] | None,
                  notes: Mapping[str, str] | None) -> dict[str, str]:
    """Each changed lesson's significance (substantive unless said otherwise), validated."""
    changed = plan.changed_slugs
    given = dict(given or {})
    for slug, kind in given.items():
        if slug not in changed:
            raise PublishError(f"{plan.course_slug}/{slug}: not a changed lesson of this "
                               "publication (changed: " + (", ".join(changed) or "none") + ")")
        if kind not in SIGNIFICANCE:
            raise PublishError(f"{plan.course_slug}/{slug}: significance must be 'editorial' "
                               "or 'substantive'")
    result = {slug: given.get(slug, "substantive") for slug in changed}
    for slug in notes or {}:
        if result.get(slug) != "substantive":
            raise PublishError(f"{plan.course_slug}/{slug}: a 'what changed' note belongs to a "
                               "substantive change of a changed lesson")
    return result


def publish_course(files: CourseFiles, *, significance: Mapping[str, str] | None = None,
                   notes: Mapping[str, str] | None = None, recertify: bool = False,
                   origin: str = "files", actor: User | None = None,
                   recertify_within_days: int | None = None) -> tuple[CourseVersion, str]:
    """Make ``files`` the current version of its course.

    Returns the version and what happened: "created", "switched" (the files
    match an older version, which becomes current again) or "unchanged".
    Changed lessons are substantive unless ``significance`` says "editorial".
    ``recertify`` gives every current certificate holder ``recertify_within_days``
    to recertify. The caller commits; nothing is written if this raises.
    """
    if origin not in ORIGINS:
        raise PublishError(f"origin must be one of {', '.join(ORIGINS)}")
    plan = plan_publish(files)
    kinds = _significance(plan, significance, notes)
    course = course_by_slug(files.slug)
    if course is None:
        course = Course(slug=files.slug)
        db.session.add(course)
        db.session.flush()
    # A rollback is always a new version, so one content hash may be published twice;
    # otherwise the current version with these files, else the newest, is the match.
    existing = None if origin == "rollback" else db.session.scalar(
        sa.select(CourseVersion).where(CourseVersion.course_id == course.id,
                                       CourseVersion.content_hash == files.content_hash)
        .order_by((CourseVersion.id == course.current_version_id).desc(),
                  CourseVersion.number.desc()).limit(1))
    if existing is not None:
        if course.current_version_id == existing.id:
            return existing, "unchanged"
        course.current_version_id = existing.id
        course.updated_at = utcnow()
        record_audit(actor, "content.switch", files.slug,
                     {"version": existing.number, "origin": origin})
        return existing, "switched"

    previous = plan.current
    old_lessons = (old_states(previous)[1] if previous is not None else {})
    reading, notes_of, passages_of = {}, {}, {}
    passages = {change.slug: change.passages for change in plan.changes}
    for lesson in files.lessons:
        old = old_lessons.get(lesson.slug)
        if old is None or kinds.get(lesson.slug) == "substantive":
            reading[lesson.slug] = lesson.content_hash
            if old is not None:
                notes_of[lesson.slug] = (notes or {}).get(lesson.slug, "").strip() or None
                passages_of[lesson.slug] = passages.get(lesson.slug, [])
        else:  # unchanged, moved or editorial: officers' reading still counts
            reading[lesson.slug] = old.reading_hash
            notes_of[lesson.slug] = old.change_note
            passages_of[lesson.slug] = old.changed_passages
    number = (db.session.scalar(sa.select(sa.func.max(CourseVersion.number))
                                .where(CourseVersion.course_id == course.id)) or 0) + 1
    rendered = render_course_texts(files)
    variants = render_variants(files)
    translations, lesson_translations = render_translations(files)
    rewrite = link_rewriter(files.slug, {a.path: a for a in files.assets})
    version = CourseVersion(
        course_id=course.id, number=number, content_hash=files.content_hash,
        title=files.title, summary=files.summary, language=files.language,
        estimated_minutes=files.estimated_minutes, pass_mark=files.pass_mark,
        certificate_validity_months=files.certificate_validity_months,
        completion_lessons=files.completion_lessons,
        completion_assessment=files.completion_assessment,
        audience=list(files.audience), objectives=list(files.objectives),
        prerequisites=list(files.prerequisites), outline=_outline(files, reading),
        overview_html=rendered[""].html,
        sources_html=[render_inline(source, rewrite) for source in files.sources],
        files=dict(files.files), assets={asset.path: asset.sha256 for asset in files.assets},
        origin=origin, based_on_hash=previous.content_hash if previous else None,
        published_by=actor.id if actor is not None else None,
        significance=kinds, recertify=bool(recertify and previous is not None),
        translations=translations,
    )
    db.session.add(version)
    db.session.flush()
    for position, lesson in enumerate(files.lessons, start=1):
        db.session.add(Lesson(
            version_id=version.id, slug=lesson.slug, position=position,
            module_index=files.module_of(lesson.slug), title=lesson.title,
            estimated_minutes=lesson.estimated_minutes, content_warning=lesson.content_warning,
            objectives=list(lesson.objectives),
            sources_html=[render_inline(source, rewrite) for source in lesson.sources],
            html=rendered[lesson.slug].html, toc_html=rendered[lesson.slug].toc_html,
            content_hash=lesson.content_hash, reading_hash=reading[lesson.slug],
            change_note=notes_of.get(lesson.slug), changed_passages=passages_of.get(lesson.slug),
            recertification=lesson.recertification, check_slug=lesson.check,
            variants={code: {"html": text.html, "toc_html": text.toc_html}
                      for code, text in variants[lesson.slug].items()}
            if lesson.slug in variants else None,
            translations=lesson_translations.get(lesson.slug),
        ))
    _store_assets(files)
    course.current_version_id = version.id
    course.updated_at = utcnow()
    marked = _ask_to_recertify(course.id, recertify_within_days) if version.recertify else 0
    record_audit(actor, "content.publish", files.slug, {
        "version": number, "origin": origin, "hash": files.content_hash[:12],
        "based_on": version.based_on_hash[:12] if version.based_on_hash else None,
        "significance": kinds, "recertify": version.recertify, "certificates_marked": marked})
    return version, "created"


def _ask_to_recertify(course_id: int, within_days: int | None) -> int:
    """Give every valid certificate of the course a recertification deadline; how many."""
    if within_days is None:
        within_days = current_app.config.get("RECERTIFY_AFTER_CHANGE_DAYS",
                                             RECERTIFY_WITHIN_DAYS)
    today = utcnow().date()
    deadline = today + timedelta(days=within_days)
    valid = (Certificate.course_id == course_id, Certificate.revoked_at.is_(None),
             sa.or_(Certificate.expires_on.is_(None), Certificate.expires_on > today))
    marked = (*valid, sa.or_(Certificate.recertify_by.is_(None),
                             Certificate.recertify_by > deadline))
    holders = set(db.session.scalars(sa.select(Certificate.user_id).where(*marked)))
    result = db.session.execute(
        sa.update(Certificate).where(*marked)
        .values(recertify_by=deadline).execution_options(synchronize_session=False))
    if holders:
        certificates_changed.send(db.session(), user_ids=holders)
    return result.rowcount or 0
