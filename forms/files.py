"""Uploaded files and signatures: sniffed types, size limits, random names on disk.

Files live in ``instance/uploads/forms/`` under a random name; the client's file name is kept
for display only and never used as a path. A signature is a PNG made by the signature pad
(a ``data:image/png;base64,…`` URL); anything that is not a well-formed PNG is refused.
"""

import base64
import binascii
import hashlib
import os
import secrets
import struct
import zlib
from pathlib import Path

from flask import current_app

from forms.errors import msg
from forms.models import StoredFile
from portal.accounts.models import utcnow
from portal.db import db

SIGNATURE_MAX_BYTES = 256 * 1024
SIGNATURE_MAX_SIDE = 4000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_OFFICE = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


class FileRefused(Exception):
    def __init__(self, message):
        super().__init__(message["en"])
        self.message = message


def upload_dir(app=None):
    folder = Path((app or current_app).instance_path) / "uploads" / "forms"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sniff(head, name=""):
    """The content type of a file from its first bytes (the client's claim is ignored)."""
    if head.startswith(PNG_MAGIC):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return _OFFICE.get(os.path.splitext(name.lower())[1], "application/zip")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "application/octet-stream"
    if b"\x00" in head:
        return "application/octet-stream"
    return "text/plain"


def display_name(name):
    """A safe display name: the last path part, printable, at most 255 characters."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)
    return name.strip()[:255] or "file"


def store_bytes(data, original_name, user, max_bytes, accept=(), is_signature=False):
    """Write *data* under a random name and record it; return the StoredFile."""
    if not data:
        raise FileRefused(msg("文件为空", "the file is empty"))
    if len(data) > max_bytes:
        raise FileRefused(msg("文件过大（上限 {n} MB）", "the file is too large (limit {n} MB)",
                              n=round(max_bytes / 1024 / 1024, 2)))
    name = display_name(original_name)
    content_type = sniff(data[:512], name)
    if content_type == "application/octet-stream":
        raise FileRefused(msg("不支持此类文件", "this kind of file is not supported"))
    if accept and not any(_accepts(rule, name, content_type) for rule in accept):
        raise FileRefused(msg("不接受此类文件（{t}）", "this kind of file is not accepted ({t})",
                              t=content_type))
    random_name = secrets.token_hex(16) + _extension(content_type)
    path = upload_dir() / random_name
    with open(path, "xb") as handle:
        handle.write(data)
    try:
        with db.atomic():
            row = StoredFile.create(name=random_name, original_name=name, content_type=content_type,
                                    size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                    is_signature=is_signature, uploaded_by=user,
                                    uploaded_at=utcnow())
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return row


def _accepts(rule, name, content_type):
    if rule.startswith("."):
        return name.lower().endswith(rule.lower())
    if rule.endswith("/*"):
        return content_type.startswith(rule[:-1])
    return content_type == rule


def _extension(content_type):
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
            "application/pdf": ".pdf", "text/plain": ".txt"}.get(content_type, ".bin")


def store_upload(storage, user, max_bytes, accept=()):
    """Store a werkzeug FileStorage, reading at most *max_bytes* + 1 bytes."""
    data = storage.stream.read(max_bytes + 1)
    return store_bytes(data, storage.filename or "file", user, max_bytes, accept)


def check_png(data):
    """Refuse anything but a complete, well-formed PNG of sane size; return (width, height)."""
    if len(data) > SIGNATURE_MAX_BYTES:
        raise FileRefused(msg("签名图片过大（上限 {n} KB）", "the signature is too large (limit {n} KB)",
                              n=SIGNATURE_MAX_BYTES // 1024))
    if not data.startswith(PNG_MAGIC) or len(data) < 8 + 25 + 12:
        raise FileRefused(msg("签名必须是 PNG 图片", "the signature must be a PNG image"))
    offset, seen_end, size = 8, False, None
    while offset < len(data):
        if offset + 12 > len(data):
            raise FileRefused(msg("PNG 文件不完整", "the PNG file is truncated"))
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        crc = data[offset + 8 + length:offset + 12 + length]
        if len(body) != length or len(crc) != 4 or \
                zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", crc)[0]:
            raise FileRefused(msg("PNG 文件已损坏", "the PNG file is corrupt"))
        if offset == 8:
            if kind != b"IHDR" or length != 13:
                raise FileRefused(msg("PNG 文件已损坏", "the PNG file is corrupt"))
            size = struct.unpack(">II", body[:8])
        offset += 12 + length
        if kind == b"IEND":
            seen_end = True
            break
    if not seen_end or offset != len(data):
        raise FileRefused(msg("PNG 文件不完整", "the PNG file is truncated"))
    width, height = size
    if not (0 < width <= SIGNATURE_MAX_SIDE and 0 < height <= SIGNATURE_MAX_SIDE):
        raise FileRefused(msg("签名图片尺寸不正确", "the signature image has a wrong size"))
    return width, height


def store_signature(data_url, user):
    """Store the signature pad's PNG data URL; return the StoredFile."""
    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        raise FileRefused(msg("签名必须是 PNG 图片", "the signature must be a PNG image"))
    encoded = data_url[len(prefix):]
    if len(encoded) > SIGNATURE_MAX_BYTES * 4 // 3 + 8:
        raise FileRefused(msg("签名图片过大（上限 {n} KB）", "the signature is too large (limit {n} KB)",
                              n=SIGNATURE_MAX_BYTES // 1024))
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise FileRefused(msg("签名数据无效", "the signature data is not valid")) from None
    check_png(data)
    return store_bytes(data, "signature.png", user, SIGNATURE_MAX_BYTES, ("image/png",),
                       is_signature=True)


def file_path(row):
    return upload_dir() / row.name


def tiny_png(width=120, height=40, seed=0):
    """A small valid grey-scale PNG with a scribble (demo signatures, tests)."""
    rows = []
    for y in range(height):
        line = bytearray([0])  # filter: none
        for x in range(width):
            ink = abs((x * 3 + seed) % height - y) < 2 or abs((x + seed * 7) % 37 - y) < 1
            line.append(0 if ink else 255)
        rows.append(bytes(line))
    raw = zlib.compress(b"".join(rows))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
