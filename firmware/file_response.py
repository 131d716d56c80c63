"""A verified file as an HTTP response: its name, size and digest in the headers, and single byte
ranges (RFC 9110 section 14) for resumed downloads. Never reads the file into memory."""

import base64
import re
from typing import BinaryIO

from django.http import FileResponse, HttpRequest, HttpResponse

from firmware.file_store import KeptFile

BLOCK_SIZE = 256 * 1024
SINGLE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# RFC 9530 registers sha-256 and sha-512 for Repr-Digest; RFC 3230's Digest also knows the rest.
REPR_DIGEST_NAMES = {"sha256": "sha-256", "sha512": "sha-512"}
DIGEST_NAMES = {"md5": "MD5", "sha1": "SHA", "sha256": "SHA-256", "sha512": "SHA-512"}


class _Slice:
    """`length` bytes of a file from where it stands: what a 206 sends."""

    def __init__(self, file: BinaryIO, length: int):
        self._file = file
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        data = self._file.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


class RangeNotSatisfiable(Exception):
    """The range asked for lies wholly beyond the file (416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a Range header asks for; None to send the whole file (no header,
    several ranges, or one fwportal does not read); RangeNotSatisfiable beyond the file."""
    if not header:
        return None
    match = SINGLE_RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        suffix = int(last[:20])
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(size - suffix, 0), size - 1
    start = int(first[:20])
    end = size - 1 if last == "" else min(int(last[:20]), size - 1)
    if last != "" and int(last[:20]) < start:
        return None  # not a valid range: ignored, as RFC 9110 says
    if start >= size:
        raise RangeNotSatisfiable
    return start, end


def file_response(
    request: HttpRequest, kept: KeptFile, *, name: str, method: str, digest: str
) -> HttpResponse:
    """200 with the whole file, 206 with the one range asked for, or 416; an If-Range that names
    another version of the file gets the whole file."""
    etag = f'"{method}-{digest}"'
    if_range = request.headers.get("If-Range")
    asked = request.headers.get("Range") if if_range in (None, etag) else None
    try:
        response = _with_body(kept, byte_range(asked, kept.size), name)
    except RangeNotSatisfiable:
        kept.file.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{kept.size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    encoded = base64.b64encode(bytes.fromhex(digest)).decode()
    if method in REPR_DIGEST_NAMES:
        response["Repr-Digest"] = f"{REPR_DIGEST_NAMES[method]}=:{encoded}:"
    if method in DIGEST_NAMES:
        response["Digest"] = f"{DIGEST_NAMES[method]}={encoded}"
    return response


def _with_body(kept: KeptFile, wanted: tuple[int, int] | None, name: str) -> FileResponse:
    """The whole file (None), or the bytes from first to last of `wanted`, as an attachment."""
    if wanted is None:
        body, status, length = kept.file, 200, kept.size
    else:
        first, last = wanted
        kept.file.seek(first)
        body, status, length = _Slice(kept.file, last - first + 1), 206, last - first + 1
    response = FileResponse(
        body,
        as_attachment=True,
        filename=name,
        content_type="application/octet-stream",
        status=status,
    )
    response.block_size = BLOCK_SIZE
    response["Content-Length"] = str(length)
    if wanted is not None:
        response["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{kept.size}"
    return response
