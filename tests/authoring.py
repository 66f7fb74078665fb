"""Helpers for the authoring tests: open a draft, read the editor's hidden fields, save."""

from __future__ import annotations

import re
from html import unescape

from learning.author import ownership
from learning.author.models import CourseDraft
from learning.extensions import db

COURSE = "field-basics"
LESSON = f"courses/{COURSE}/first-steps.md"


def make_owner(user, course: str = COURSE, role: str = "owner") -> None:
    """Grant a trainer a role on a course, as an admin would."""
    ownership.grant(course, user.email, role, None)
    db.session.commit()


def open_draft(client, course: str = COURSE) -> int:
    """POST 'Edit' on a course; the id of the draft it opens."""
    response = client.post(f"/author/courses/{course}/draft")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/author/drafts/(\d+)/", response.headers["Location"]).group(1))


def editor_fields(client, draft_id: int, path: str) -> dict[str, str]:
    """The hidden revision/base fields and the textarea text of the editor page."""
    html = client.get(f"/author/drafts/{draft_id}/", query_string={"file": path}).get_data(
        as_text=True)
    return fields_of(html)


def fields_of(html: str) -> dict[str, str]:
    found = {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
             for name in ("revision", "base")}
    found["text"] = unescape(re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', html,
                                       re.S).group(1))
    return found


def save(client, draft_id: int, path: str, text: str, fields: dict[str, str], **headers):
    """Save one file with the revision and base the editor page gave."""
    return client.post(f"/author/drafts/{draft_id}/save", headers=headers, data={
        "path": path, "text": text, "revision": fields["revision"], "base": fields["base"]})


def draft(draft_id: int) -> CourseDraft:
    db.session.expire_all()
    return db.session.get(CourseDraft, draft_id)
