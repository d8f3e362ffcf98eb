"""Article pictures: PNG, JPEG, GIF or WebP only, recognised by their bytes, stored by random names.

The name and type the browser sent are never trusted: the content type comes from the file's
magic bytes and the stored name from ``secrets``. SVG and HTML are refused whatever they claim
to be, and images are served with ``nosniff`` and ``inline``, so an upload cannot become a page.
"""

import os
import secrets
from pathlib import Path

from flask import current_app

from portal import audit
from portal.db import db

from knowledge_base import search
from knowledge_base.models import ArticleImage

MAX_IMAGE_BYTES = 5 * 1024 * 1024
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


class ImageRefused(ValueError):
    """The upload is not an image we store."""


def sniff(data):
    """Return the content type of PNG/JPEG/GIF/WebP bytes, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def upload_dir(app=None):
    folder = Path((app or current_app).instance_path) / "uploads" / "kb"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def store_image(stream, original_name, user):
    """Store an uploaded image; return the ArticleImage (not yet attached to an article)."""
    data = stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused(f"larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    content_type = sniff(data)
    if content_type is None:
        raise ImageRefused("not a PNG, JPEG, GIF or WebP image")
    stored_name = f"{secrets.token_hex(16)}.{EXTENSIONS[content_type]}"
    path = upload_dir() / stored_name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    safe_name = "".join(c for c in (original_name or "") if c.isprintable())[:200]
    try:
        with db.atomic():
            image = ArticleImage.create(stored_name=stored_name, content_type=content_type, size=len(data),
                                        original_name=safe_name, uploaded_by=user.id)
            audit.record("upload", image, summary=f"kb image {stored_name} ({content_type}, {len(data)} bytes)")
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return image


def visible_image(stored_name, user):
    """Return the image if *user* may see it: through its article, or as an editor if unattached."""
    image = ArticleImage.get_or_none(ArticleImage.stored_name == stored_name)
    if image is None:
        return None
    if image.article_id is not None:
        article = search.visible_articles(user).where(search.Article.id == image.article_id).first()
        return image if article is not None else None
    if user.role == "admin":
        return image
    uploader = image.uploaded_by
    if user.role in ("engineer", "manager") and user.organization.kind == "vendor" and uploader is not None \
            and uploader.organization_id == user.organization_id:
        return image
    return None


def image_path(image):
    return upload_dir() / image.stored_name
