"""Draft -> in review -> approved -> published: who may move a draft, and when review is needed.

A reviewer never approves a draft they wrote or changed. Review is required for drafts
that touch a final assessment (its file, or a bank holding questions it draws) or the
terms of certification in course.md (the completion rule, the pass mark finals inherit,
the certificate's validity), and, when ``AUTHOR_REVIEW_REQUIRED`` is on, for every draft.
"""

from __future__ import annotations

import sqlalchemy as sa

from learning.accounts.models import User
from learning.author.drafts import (
    DraftError,
    base_version,
    changed_paths,
    check_draft,
    file_kind,
)
from learning.author.models import CourseDraft, DraftComment
from learning.catalogue.versions import VersionDiff, diff_contents
from learning.content import CourseLoad
from learning.content.frontmatter import LocatedDict, parse_document, parse_yaml
from learning.content.translations import split_name
from learning.extensions import db
from learning.timeutil import utcnow

MAX_COMMENT = 4000


def _final_tags(files: dict[str, str]) -> tuple[set[str], set[str]]:
    """(paths of final assessments, tags they draw) among quiz files, read leniently."""
    paths, tags = set(), set()
    for path, text in files.items():
        if not path.startswith("quizzes/"):
            continue
        data = parse_yaml(text, path, [])
        raw = data.get("assessment") if isinstance(data, LocatedDict) else None
        if isinstance(raw, dict) and raw.get("final") is True:
            paths.add(path)
            for rule in raw.get("draw") or ():
                if isinstance(rule, dict) and isinstance(rule.get("tag"), str):
                    tags.add(rule["tag"])
    return paths, tags


def _holds_tags(text: str, path: str, tags: set[str]) -> bool:
    data = parse_yaml(text, path, [])
    items = data.get("questions") if isinstance(data, LocatedDict) else None
    stack = list(items) if isinstance(items, list) else []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if set(item.get("tags") or ()) & tags:
                return True
            stack.extend(item.get("questions") or ())
    return False


# course.md keys that decide who is certified: dropping the final from the completion
# rule, or lowering the pass mark finals inherit, changes a certificate as much as
# editing the final does.
CERTIFICATION_TERMS = ("completion", "pass_mark", "certificate_validity_months")


def certification_terms(files: dict[str, str], course_slug: str) -> dict:
    """The certification keys of the course's course.md as written (absent: None)."""
    path = f"courses/{course_slug}/course.md"
    text = files.get(path)
    meta = parse_document(text, path, []).meta if text is not None else None
    return {key: (meta or {}).get(key) for key in CERTIFICATION_TERMS}


def touches_final(draft: CourseDraft) -> bool:
    """True when the draft changes a final assessment, a bank feeding one (old or new), or
    the certification terms of course.md."""
    version = base_version(draft)
    base = dict(version.files) if version else {}
    if base and certification_terms(draft.files, draft.course_slug) != \
            certification_terms(base, draft.course_slug):
        return True  # a published course's terms (a new course's final is new anyway)
    final_paths, tags = _final_tags(draft.files)
    old_paths, old_tags = _final_tags(base)
    final_paths |= old_paths
    tags |= old_tags
    for path in changed_paths(draft):
        # A translation is judged by its source file: its own tags (or their absence)
        # decide nothing, since its questions are the source's questions in other words.
        source = _translation_source(path)
        for judged in (path, source) if source else (path,):
            if judged in final_paths:
                return True
            for text in (draft.files.get(judged), base.get(judged)):
                if text is not None and judged.startswith("quizzes/") and \
                        _holds_tags(text, judged, tags):
                    return True
    return False


def _translation_source(path: str) -> str | None:
    """``quizzes/c/bank.yaml`` for ``quizzes/c/bank.fr.yaml``; None for other files."""
    folder, _, name = path.rpartition("/")
    parts = split_name(name)
    if parts is None or not name.endswith((".yaml", ".yml")):
        return None
    return f"{folder}/{parts[0]}.{name.rsplit('.', 1)[1]}"


def review_required(draft: CourseDraft, required_for_all: bool) -> bool:
    """Whether this draft needs an approval before it may be published."""
    return required_for_all or touches_final(draft)


def may_publish_now(draft: CourseDraft, required_for_all: bool) -> bool:
    """Approved drafts publish; so do drafts that need no review."""
    if draft.state == "approved":
        return True
    return draft.state == "draft" and not review_required(draft, required_for_all)


def submit(draft: CourseDraft, user: User) -> CourseLoad:
    """Send a draft that passes the check to review; DraftError("problems") otherwise."""
    if draft.state != "draft":
        raise DraftError("state")
    load = check_draft(draft)
    if load.course is None:
        raise DraftError("problems")
    draft.state = "in_review"
    draft.updated_at = utcnow()
    return load


def _is_author(draft: CourseDraft, user: User) -> bool:
    return user.id == draft.author_id or user.id in (draft.contributors or [])


def approve(draft: CourseDraft, user: User) -> None:
    """Approve a draft in review; the author and anyone who changed it may not."""
    if draft.state != "in_review":
        raise DraftError("state")
    if _is_author(draft, user):
        raise DraftError("own")
    draft.state, draft.reviewer_id, draft.updated_at = "approved", user.id, utcnow()


def request_changes(draft: CourseDraft, user: User, comment: str, path: str) -> DraftComment:
    """Send a draft in review back to its author, with a comment saying what to change."""
    if draft.state != "in_review":
        raise DraftError("state")
    if _is_author(draft, user):
        raise DraftError("own")
    note = add_comment(draft, user, path, comment)
    draft.state, draft.reviewer_id, draft.updated_at = "draft", user.id, utcnow()
    return note


def withdraw(draft: CourseDraft) -> None:
    """Give up an open draft (it stays readable; a new one can be opened)."""
    if draft.state not in ("draft", "in_review", "approved"):
        raise DraftError("state")
    draft.state, draft.updated_at = "withdrawn", utcnow()


def add_comment(draft: CourseDraft, user: User, path: str, text: str) -> DraftComment:
    """A remark on one file of the draft (or on the whole draft when ``path`` is empty)."""
    text = text.strip()
    if not text or len(text) > MAX_COMMENT:
        raise DraftError("comment")
    if path and (path not in draft.files or file_kind(draft.course_slug, path) is None):
        raise DraftError("path")
    note = DraftComment(draft_id=draft.id, path=path, author_id=user.id, text=text)
    db.session.add(note)
    return note


def comments(draft: CourseDraft) -> list[tuple[DraftComment, User]]:
    """The draft's comments, oldest first, with who wrote them."""
    rows = db.session.execute(
        sa.select(DraftComment, User).join(User, User.id == DraftComment.author_id)
        .where(DraftComment.draft_id == draft.id).order_by(DraftComment.id))
    return [(note, person) for note, person in rows]


def file_changes(draft: CourseDraft) -> VersionDiff:
    """Every file and image that differs from the base version, as a reviewer reads it
    before approving: course.md, lessons, banks and assessments alike."""
    version = base_version(draft)
    return diff_contents(version.files if version else {}, draft.files,
                         version.assets if version else {}, draft.assets or {})
