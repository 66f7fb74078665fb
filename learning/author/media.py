"""Images uploaded into a draft: sniffed from their bytes, bounded, re-encoded, stored by hash.

The name and the declared type of an upload are ignored. Pillow opens the bytes with
only the PNG, JPEG and WebP decoders allowed, so SVG, HTML and everything else is
refused; the image is decoded in full (a truncated file fails here, not later), resized
and written again from its pixels, which drops metadata and anything appended to it.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError

from learning.accounts.models import User
from learning.author.models import CourseDraft
from learning.author.ownership import may_edit, may_review
from learning.catalogue.models import MediaAsset
from learning.catalogue.service import is_published_media
from learning.extensions import db

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decoded size is checked before decoding (decompression bombs)
MAX_SIDE = 1600
MAX_ALT = 200
FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
               "gif": "image/gif", "webp": "image/webp"}
_MARKUP = re.compile(rb"<\s*(svg|html|script|!doctype|\?xml)", re.IGNORECASE)


class ImageRefused(ValueError):
    """An upload that is not a PNG, JPEG or WebP image we accept; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StoredImage:
    """A stored image: its path in the course folder and the Markdown that shows it."""

    path: str  # media/<sha256>.<ext>
    sha256: str
    markdown: str


def clean_alt(alt: str) -> str:
    """Alt text on one line, without the brackets that would end it in Markdown."""
    return " ".join(re.sub(r"[\[\]()\\<>]", " ", alt).split())[:MAX_ALT]


def reencode(data: bytes) -> tuple[bytes, str]:
    """The image's pixels as a fresh PNG, JPEG or WebP file, or ImageRefused."""
    if not data:
        raise ImageRefused("empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRefused("too_large")
    if _MARKUP.search(data):
        raise ImageRefused("markup")  # SVG, HTML, or an image carrying markup (polyglot)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            fmt = image.format
            width, height = image.size
            if width * height > MAX_PIXELS or width < 1 or height < 1:
                raise ImageRefused("too_many_pixels")
            image.load()
        except ImageRefused:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombError,
                Image.DecompressionBombWarning):
            raise ImageRefused("not_an_image") from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise ImageRefused("damaged") from None
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "WEBP":
        image.convert("RGBA").save(out, "WEBP", quality=85)
    else:
        mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") else "RGB"
        image.convert(mode).save(out, "PNG", optimize=True)
    return out.getvalue(), FORMATS[fmt]


def store_image(data: bytes, alt: str) -> StoredImage:
    """Re-encode and store an upload by content hash (shared with published media)."""
    alt = clean_alt(alt)
    if not alt:
        raise ImageRefused("alt")
    encoded, extension = reencode(data)
    sha256 = hashlib.sha256(encoded).hexdigest()
    known = db.session.scalar(sa.select(MediaAsset.sha256).where(MediaAsset.sha256 == sha256))
    if known is None:
        db.session.add(MediaAsset(sha256=sha256, extension=extension, data=encoded))
    path = f"media/{sha256}.{extension}"
    return StoredImage(path, sha256, f"![{alt}]({path})")


def draft_image(draft: CourseDraft | None, sha256: str, extension: str,
                user: User) -> MediaAsset | None:
    """An image of a draft, for those who may edit or review the course; None otherwise.

    Anyone else gets the same None as for an unknown hash (a 404), so a hash reveals
    nothing; an image that is also published is shown to whoever may see the draft.
    """
    if draft is None or sha256 not in draft.assets.values() or extension not in MEDIA_TYPES:
        return None
    slug = draft.course_slug
    if not (may_edit(user, slug) or may_review(user, slug) or is_published_media(sha256)):
        return None
    asset = db.session.get(MediaAsset, sha256)
    return asset if asset is not None and asset.extension == extension else None
