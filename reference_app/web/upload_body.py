"""Reading an upload without trusting its size: the body is read up to a limit and no further.

Two request shapes are accepted: ``multipart/form-data`` with the CSV in a ``file`` part (what a
browser form sends) and a raw body with a CSV content type (``curl --data-binary @sales.csv -H
'Content-Type: text/csv'``), whose name may be given as ``?filename=``.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from reference_app.csv_format import CsvFormatError, check_content_type

__all__ = ["MULTIPART_OVERHEAD", "Upload", "UploadError", "read_upload"]

# Room for the multipart envelope (boundaries, part headers) on top of the file's own limit.
MULTIPART_OVERHEAD = 64 * 1024
DEFAULT_FILENAME = "upload.csv"


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


def _too_large(max_bytes: int, filename: str) -> UploadError:
    return UploadError(
        413, "file_too_large", f"the file is larger than the limit of {max_bytes} bytes",
        filename=filename,
    )  # fmt: skip


async def _read_capped(request: Request, cap: int, max_bytes: int, filename: str) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(max_bytes, filename)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _too_large(max_bytes, filename)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: Request, *, max_bytes: int) -> Upload:
    """The uploaded CSV file of ``request``.

    Raises UploadError: 413 ``file_too_large`` beyond ``max_bytes``, 415
    ``unsupported_content_type`` for a non-CSV type, 400 ``missing_file`` for a form without a
    ``file`` part.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "multipart/form-data":
        filename = request.query_params.get("filename") or DEFAULT_FILENAME
        _check_type(request.headers.get("content-type"), filename)
        data = await _read_capped(request, max_bytes, max_bytes, filename)
        return Upload(filename, media_type, data)

    body = await _read_capped(request, max_bytes + MULTIPART_OVERHEAD, max_bytes, DEFAULT_FILENAME)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return {"type": "http.disconnect"}
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    async with Request(request.scope, replay).form(max_files=1, max_fields=10) as form:
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise UploadError(
                400, "missing_file", "the form has no file part named 'file'",
                filename=DEFAULT_FILENAME,
            )  # fmt: skip
        filename = part.filename or DEFAULT_FILENAME
        _check_type(part.content_type, filename)
        data = await part.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large(max_bytes, filename)
    return Upload(filename, (part.content_type or "").split(";", 1)[0].strip().lower(), data)


def _check_type(content_type: str | None, filename: str) -> None:
    try:
        check_content_type(content_type)
    except CsvFormatError as exc:
        raise UploadError(415, exc.code, str(exc), filename=filename) from exc
