"""Reading an upload without trusting its size: the body is read up to a limit and no further.

Two request shapes are accepted: ``multipart/form-data`` with the CSV in a ``file`` part (what a
browser form sends) and a raw body with a CSV content type (``curl --data-binary @sales.csv -H
'Content-Type: text/csv'``), whose name may be given as ``?filename=``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from reference_app.csv_format import CsvFormatError, check_content_type, excerpt
from reference_app.web.body import BodyError, read_body, replayed

__all__ = ["DEFAULT_FILENAME", "MAX_FILENAME", "MULTIPART_OVERHEAD", "Upload", "UploadError",
           "read_upload"]  # fmt: skip

# Room for the multipart envelope (boundaries, part headers) on top of the file's own limit.
MULTIPART_OVERHEAD = 64 * 1024
DEFAULT_FILENAME = "upload.csv"
MAX_FILENAME = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class UploadError(ValueError):
    """The request is not an acceptable upload: ``status`` and ``code`` go into the 4xx answer."""

    def __init__(self, status: int, code: str, message: str, *, filename: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.filename = filename


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


async def _read(request: Request, cap: int, max_bytes: int, deadline: float, name: str) -> bytes:
    try:
        return await read_body(request, limit=cap, deadline=deadline)
    except BodyError as exc:
        if exc.status == 413:
            raise _too_large(max_bytes, name) from None
        raise UploadError(exc.status, exc.code, str(exc), filename=name) from None


def _filename(raw: str | None) -> str:
    """The file's name as given, or DEFAULT_FILENAME; refused when it could not be stored or shown
    (too long, a control character such as NUL, not text)."""
    if not raw:
        return DEFAULT_FILENAME
    usable = len(raw) <= MAX_FILENAME and not _CONTROL.search(raw)
    if usable:
        try:
            raw.encode()
        except UnicodeEncodeError:
            usable = False
    if not usable:
        raise UploadError(
            400, "invalid_filename",
            f"the file name must be 1 to {MAX_FILENAME} characters without control characters;"
            f" got {excerpt(raw)}",
            filename=DEFAULT_FILENAME,
        )  # fmt: skip
    return raw


async def read_upload(request: Request, *, max_bytes: int, deadline: float) -> Upload:
    """The uploaded CSV file of ``request``, its body received within ``deadline`` seconds.

    Raises UploadError: 413 ``file_too_large`` beyond ``max_bytes`` (before reading when the
    length is declared), 408 ``body_timeout``, 415 ``unsupported_content_type`` for a non-CSV
    type, 400 ``missing_file`` for a form without a ``file`` part, 400 ``malformed_multipart``
    for a form that cannot be parsed (no boundary, two files, garbage), 400 ``invalid_filename``.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "multipart/form-data":
        filename = _filename(request.query_params.get("filename"))
        _check_type(request.headers.get("content-type"), filename)
        data = await _read(request, max_bytes, max_bytes, deadline, filename)
        return Upload(filename, media_type, data)

    body = await _read(
        request, max_bytes + MULTIPART_OVERHEAD, max_bytes, deadline, DEFAULT_FILENAME
    )
    try:
        async with replayed(request, body).form(max_files=1, max_fields=10) as form:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise UploadError(
                    400, "missing_file", "the form has no file part named 'file'",
                    filename=DEFAULT_FILENAME,
                )  # fmt: skip
            filename = _filename(part.filename)
            _check_type(part.content_type, filename)
            data = await part.read(max_bytes + 1)
    except (HTTPException, MultiPartException) as exc:
        reason = exc.detail if isinstance(exc, HTTPException) else exc.message
        raise UploadError(
            400, "malformed_multipart", f"the multipart form cannot be read: {excerpt(reason, 80)}",
            filename=DEFAULT_FILENAME,
        ) from None  # fmt: skip
    if len(data) > max_bytes:
        raise _too_large(max_bytes, filename)
    return Upload(filename, (part.content_type or "").split(";", 1)[0].strip().lower(), data)


def _too_large(max_bytes: int, filename: str) -> UploadError:
    return UploadError(
        413, "file_too_large", f"the file is larger than the limit of {max_bytes} bytes",
        filename=filename,
    )  # fmt: skip


def _check_type(content_type: str | None, filename: str) -> None:
    try:
        check_content_type(content_type)
    except CsvFormatError as exc:
        raise UploadError(415, exc.code, str(exc), filename=filename) from exc
