"""Images uploaded into a draft: sniffed, bounded, re-encoded, stored by hash, alt required."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from learning.accounts.models import User
from learning.catalogue.models import MediaAsset
from learning.extensions import db
from tests.authoring import LESSON, draft, make_owner, open_draft


def _png(size=(40, 30), **params) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG", **params)
    return out.getvalue()


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MediaAsset))


@pytest.fixture
def draft_id(client, app_ctx, make_user, login_as, synced):
    user = make_user("trainer")
    make_owner(user)
    login_as(user)
    return open_draft(client)


def _upload(client, draft_id, data: bytes, name="photo.png", alt="A forged visa stamp",
            path=LESSON):
    return client.post(f"/author/drafts/{draft_id}/media", content_type="multipart/form-data",
                       data={"image": (io.BytesIO(data), name), "alt": alt, "path": path})


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 million pixels, a few kB
    return out.getvalue()


HOSTILE = {
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "x.svg", 400),
    "html_named_png": (b"<!doctype html><html><script>alert(1)</script></html>", "x.png", 400),
    "polyglot": (_png() + b"<html><script>alert(1)</script></html>", "x.png", 400),
    "gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "x.gif", 400),
    "huge_dimensions": (_bomb(), "x.png", 400),
    "truncated": (_png((400, 400))[:300], "x.png", 400),
    "zero_bytes": (b"", "x.png", 400),
    "too_large": (b"\x89PNG" + b"\0" * (5 * 1024 * 1024 + 10), "x.png", 413),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_uploads_are_refused_and_change_nothing(client, draft_id, case):
    data, name, status = HOSTILE[case]
    before = draft(draft_id)
    files, assets, stored = dict(before.files), dict(before.assets), _count()
    response = _upload(client, draft_id, data, name)
    assert response.status_code == status
    after = draft(draft_id)
    assert (after.files, after.assets, _count()) == (files, assets, stored)


def test_alt_text_and_a_lesson_are_required(client, draft_id):
    assert _upload(client, draft_id, _png(), alt="  ").status_code == 400
    assert _upload(client, draft_id, _png(), alt="[]").status_code == 400
    assert _upload(client, draft_id, _png(),
                   path="quizzes/field-basics/bank.yaml").status_code == 400
    assert _count() == 1  # the fixture course's own diagram


def test_an_image_is_resized_stripped_stored_by_hash_and_inserted(client, draft_id):
    from PIL import PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "GPS 51.5,-0.1 secret")
    response = _upload(client, draft_id, _png((3200, 1000), pnginfo=info),
                       alt="A stamp](javascript:alert(1)")
    assert response.status_code == 302
    saved = draft(draft_id)
    [(path, sha256)] = [(p, s) for p, s in saved.assets.items() if p.startswith("media/")]
    assert path == f"media/{sha256}.png"
    assert saved.files[LESSON].rstrip().endswith(f"![A stamp javascript:alert 1]({path})")
    asset = db.session.get(MediaAsset, sha256)
    image = Image.open(io.BytesIO(asset.data))
    assert image.size == (1600, 500) and b"secret" not in asset.data
    page = client.get(f"/author/drafts/{draft_id}/", query_string={"file": LESSON})
    assert f"/media/{sha256}.png" in page.get_data(as_text=True)  # the preview shows it
    response = client.post(f"/author/drafts/{draft_id}/publish",
                           data={"confirm": "yes", "significance-first-steps": "editorial"})
    assert response.status_code == 302
    assert client.get(f"/media/{sha256}.png").status_code == 200


def test_a_draft_image_is_served_only_to_whoever_may_edit_or_review_the_draft(
        client, draft_id, make_user, login_as, isolated_requests):
    """Before it is published, an image is a 404 for anyone else who knows its hash."""
    owner = db.session.get(User, draft(draft_id).author_id)
    assert _upload(client, draft_id, _png((64, 48))).status_code == 302
    [sha256] = [s for p, s in draft(draft_id).assets.items() if p.startswith("media/")]
    mine = f"/author/drafts/{draft_id}/media/{sha256}.png"
    page = client.get(f"/author/drafts/{draft_id}/", query_string={"file": LESSON})
    assert f'src="{mine}"' in page.get_data(as_text=True)  # the preview uses the draft's URL
    assert client.get(mine).status_code == 200
    assert client.get(mine).data == db.session.get(MediaAsset, sha256).data
    assert client.get(f"/media/{sha256}.png").status_code == 404  # not published yet
    editor, admin = make_user("trainer"), make_user("admin")
    make_owner(editor, role="editor")
    outsiders = [make_user("officer"), make_user("manager"), make_user("trainer")]
    for person, status in [(editor, 200), (admin, 200), *((o, 404) for o in outsiders)]:
        client.post("/logout")
        login_as(person)
        assert client.get(mine).status_code == status, person.role
        assert client.get(f"/media/{sha256}.png").status_code == 404, person.role
        assert client.get(f"/author/drafts/{draft_id}/media/{sha256}.jpg").status_code == 404
        assert client.get(f"/author/drafts/999999/media/{sha256}.png").status_code == 404
    client.post("/logout")
    login_as(owner)
    response = client.post(f"/author/drafts/{draft_id}/publish",
                           data={"confirm": "yes", "significance-first-steps": "editorial"})
    assert response.status_code == 302
    client.post("/logout")
    login_as(outsiders[0])  # once published, anyone who may read the course sees it
    assert client.get(f"/media/{sha256}.png").status_code == 200
    assert client.get(mine).status_code == 200
