"""Publishing course files as versions, and reading the published catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from learning.catalogue.models import Course, CourseVersion, Lesson, MediaAsset
from learning.content import CatalogueLoad, Problem, load_catalogue
from learning.content import Course as CourseFiles
from learning.content.render import link_rewriter, render_course_texts, render_inline
from learning.extensions import db
from learning.timeutil import utcnow


@dataclass
class SyncReport:
    """What a sync did, course by course."""

    created: list[tuple[str, int]] = field(default_factory=list)  # (slug, version number)
    switched: list[tuple[str, int]] = field(default_factory=list)  # back to an older version
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed


def _outline(course: CourseFiles) -> list[dict]:
    return [
        {
            "title": module.title,
            "lessons": [
                {
                    "slug": slug,
                    "title": course.lesson(slug).title,
                    "minutes": course.lesson(slug).estimated_minutes,
                    "hash": course.lesson(slug).content_hash,
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


def publish_course(files: CourseFiles) -> tuple[CourseVersion, str]:
    """Make ``files`` the current version of its course.

    Returns the version and what happened: "created", "switched" (the files
    match an older version, which becomes current again) or "unchanged".
    The caller commits; nothing is written if this raises.
    """
    course = db.session.scalar(sa.select(Course).where(Course.slug == files.slug))
    if course is None:
        course = Course(slug=files.slug)
        db.session.add(course)
        db.session.flush()
    # A rollback can publish the same content twice: the current one, else the newest, wins.
    existing = db.session.scalar(sa.select(CourseVersion).where(
        CourseVersion.course_id == course.id, CourseVersion.content_hash == files.content_hash)
        .order_by((CourseVersion.id == course.current_version_id).desc(),
                  CourseVersion.number.desc()).limit(1))
    if existing is not None:
        if course.current_version_id == existing.id:
            return existing, "unchanged"
        course.current_version_id = existing.id
        course.updated_at = utcnow()
        return existing, "switched"

    number = (db.session.scalar(sa.select(sa.func.max(CourseVersion.number))
                                .where(CourseVersion.course_id == course.id)) or 0) + 1
    rendered = render_course_texts(files)
    rewrite = link_rewriter(files.slug, {a.path: a for a in files.assets})
    version = CourseVersion(
        course_id=course.id,
        number=number,
        content_hash=files.content_hash,
        title=files.title,
        summary=files.summary,
        language=files.language,
        estimated_minutes=files.estimated_minutes,
        pass_mark=files.pass_mark,
        certificate_validity_months=files.certificate_validity_months,
        completion_lessons=files.completion_lessons,
        completion_assessment=files.completion_assessment,
        audience=list(files.audience),
        objectives=list(files.objectives),
        prerequisites=list(files.prerequisites),
        outline=_outline(files),
        overview_html=rendered[""].html,
        sources_html=[render_inline(source, rewrite) for source in files.sources],
        files=dict(files.files),
        assets={asset.path: asset.sha256 for asset in files.assets},
    )
    db.session.add(version)
    db.session.flush()
    for position, lesson in enumerate(files.lessons, start=1):
        db.session.add(Lesson(
            version_id=version.id,
            slug=lesson.slug,
            position=position,
            module_index=files.module_of(lesson.slug),
            title=lesson.title,
            estimated_minutes=lesson.estimated_minutes,
            content_warning=lesson.content_warning,
            objectives=list(lesson.objectives),
            sources_html=[render_inline(source, rewrite) for source in lesson.sources],
            html=rendered[lesson.slug].html,
            toc_html=rendered[lesson.slug].toc_html,
            content_hash=lesson.content_hash,
            recertification=lesson.recertification,
            check_slug=lesson.check,
        ))
    _store_assets(files)
    course.current_version_id = version.id
    course.updated_at = utcnow()
    return version, "created"


def sync_catalogue(courses_dir: Path, quizzes_dir: Path | None = None,
                   catalogue: CatalogueLoad | None = None) -> SyncReport:
    """Import every valid course folder; each course commits or rolls back whole."""
    catalogue = catalogue or load_catalogue(courses_dir, quizzes_dir)
    report = SyncReport(problems=catalogue.problems)
    for load in catalogue.loads:
        if load.course is None:
            report.failed.append(load.slug)
            continue
        try:
            version, outcome = publish_course(load.course)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        if outcome == "created":
            report.created.append((load.slug, version.number))
        elif outcome == "switched":
            report.switched.append((load.slug, version.number))
        else:
            report.unchanged.append(load.slug)
    return report


def export_version(version: CourseVersion, destination: Path) -> list[Path]:
    """Write a stored version back to files, exactly as they were imported."""
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


def media_asset(sha256: str) -> MediaAsset | None:
    """A stored image by its hash."""
    return db.session.get(MediaAsset, sha256)
