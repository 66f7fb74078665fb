"""Images uploaded into a draft: sniffed, bounded, re-encoded, stored by hash, alt required."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

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
