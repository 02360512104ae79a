"""The CSV shape the reference app imports, and its validation.

One row is one sale: ``date,region,product,quantity,unit_price``, for example
``2026-01-31,emea,widget,3,19.99``. Files are UTF-8 (a byte-order mark is tolerated), comma
separated, with exactly that header on the first line. Every error names the physical line and the
column, so a user can fix the file without guessing.

Hostile files cost little: a line is measured before the CSV reader splits it (the header line is
at most 256 characters, any other line 4096, which also bounds the number of columns), a field
cannot hold a line break (so one record is one line) or a control character (PostgreSQL's COPY
refuses NUL), and a value quoted back in a message is cut to 40 characters, so every message is
a few hundred characters whatever the file holds.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

__all__ = [
    "ACCEPTED_CONTENT_TYPES",
    "HEADER",
    "MAX_HEADER_LINE",
    "MAX_LINE",
    "CsvFormatError",
    "SaleRow",
    "check_content_type",
    "excerpt",
    "parse_sales_csv",
]

HEADER: tuple[str, ...] = ("date", "region", "product", "quantity", "unit_price")

# Browsers on Windows label .csv files application/vnd.ms-excel; refusing it would refuse them.
ACCEPTED_CONTENT_TYPES = frozenset(
    {"text/csv", "application/csv", "application/vnd.ms-excel", "text/plain"}
)

_MAX_TEXT = 100
# The expected header has 38 characters; a sale line takes well under 300 even with quoted names.
MAX_HEADER_LINE = 256
MAX_LINE = 4096
_ECHO = 40
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what csv.reader ends a record on
_MAX_QUANTITY = 1_000_000
_MAX_PRICE = Decimal("1000000")


class CsvFormatError(ValueError):
    """The upload is not an acceptable sales CSV; ``code`` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.line = line


class SaleRow(NamedTuple):
    """One parsed sale; ``line`` is the physical line of the file it came from."""

    line: int
    date: dt.date
    region: str
    product: str
    quantity: int
    unit_price: Decimal


def check_content_type(content_type: str | None) -> None:
    """Accept CSV media types (parameters such as ``charset`` ignored).

    Raises CsvFormatError(code="unsupported_content_type") for anything else.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES:
        accepted = ", ".join(sorted(ACCEPTED_CONTENT_TYPES))
        raise CsvFormatError(
            "unsupported_content_type",
            f"content type {media_type or '(none)'!r} is not a CSV type; send one of {accepted}",
        )


def parse_sales_csv(data: bytes) -> list[SaleRow]:
    """Parse a whole sales CSV.

    Raises CsvFormatError naming the first problem (encoding, empty file, header, or the line and
    column of a bad field); nothing is returned for a partly valid file.
    """
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = str(memoryview(data)[skip:], "utf-8")  # no copy of the bytes for the BOM
    except UnicodeDecodeError as exc:
        line = data[: skip + exc.start].count(b"\n") + 1
        raise CsvFormatError(
            "invalid_encoding", f"line {line}: the file is not valid UTF-8", line=line
        ) from exc
    lines = _Lines(text)
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise CsvFormatError(
                "empty_file", f"the file is empty; expected the header {_header()}"
            )
        lines.records += 1
        _check_header(header)
        rows = []
        for fields in reader:
            lines.records += 1
            if fields:
                rows.append(_parse_row(lines.number, fields))
    except csv.Error as exc:
        raise CsvFormatError(
            "malformed_csv", f"line {lines.number}: malformed CSV ({exc})", line=lines.number
        ) from exc
    if not rows:
        raise CsvFormatError("no_rows", "the file has a header but no data rows")
    return rows


class _Lines:
    """The file's physical lines, one at a time, for csv.reader.

    A line longer than its cap is refused before the reader splits it into fields, and the
    reader asking for another line before it finished a record (a quoted field running past the
    end of its line) is refused: no field may hold a line break, so a record never grows beyond
    one capped line. ``records`` is counted by the caller, one per record it receives.
    """

    def __init__(self, text: str) -> None:
        # Sliced from the string itself: io.StringIO would hold a 4-bytes-per-character copy.
        self._text = text
        self._at = 0
        self.number = 0
        self.records = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.number > self.records:
            raise CsvFormatError(
                "malformed_csv",
                f"line {self.number}: malformed CSV (a quoted field runs past the end of the"
                " line; fields cannot hold line breaks)",
                line=self.number,
            )
        cap = MAX_HEADER_LINE if self.number == 0 else MAX_LINE
        start, text = self._at, self._text
        if start >= len(text):
            raise StopIteration
        # Only the next cap + 2 characters are searched: a line break must come within them.
        found = _LINE_BREAK.search(text, start, start + cap + 2)
        end = len(text) if found is None else found.start()
        self._at = len(text) if found is None else found.end()
        self.number += 1
        if end - start > cap:
            what = f"the header {_header()!r}" if self.number == 1 else "one sale per line"
            raise CsvFormatError(
                "line_too_long",
                f"line {self.number}: longer than {cap} characters; expected {what}",
                line=self.number,
            )
        return text[start : self._at]


def _header() -> str:
    return ",".join(HEADER)


def excerpt(value: str, limit: int = _ECHO) -> str:
    """``repr(value)``, cut to ``limit`` characters with the full length noted."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def _check_header(header: list[str]) -> None:
    found = tuple(name.strip().lower() for name in header)
    if found != HEADER:
        raise CsvFormatError(
            "invalid_header",
            f"line 1: header is {excerpt(','.join(header), 2 * _ECHO)}; expected {_header()!r}",
            line=1,
        )


def _parse_row(line: int, fields: list[str]) -> SaleRow:
    if len(fields) != len(HEADER):
        raise CsvFormatError(
            "malformed_row",
            f"line {line}: expected {len(HEADER)} fields ({_header()}), found {len(fields)}",
            line=line,
        )
    date, region, product, quantity, price = [field.strip() for field in fields]
    return SaleRow(
        line,
        _date(line, date),
        _text(line, "region", region),
        _text(line, "product", product),
        _quantity(line, quantity),
        _price(line, price),
    )


def _bad(line: int, column: str, value: str, expected: str) -> CsvFormatError:
    return CsvFormatError(
        "invalid_value",
        f"line {line}, column {column!r}: {excerpt(value)} is not {expected}",
        line=line,
    )


def _date(line: int, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _bad(line, "date", value, "a date like 2026-01-31") from None


def _text(line: int, column: str, value: str) -> str:
    if not value or len(value) > _MAX_TEXT:
        raise _bad(line, column, value, f"a name of 1 to {_MAX_TEXT} characters")
    if _CONTROL.search(value):
        raise _bad(line, column, value, "a name without a control character (NUL, tab, ...)")
    return value


def _quantity(line: int, value: str) -> int:
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= _MAX_QUANTITY:
        raise _bad(line, "quantity", value, f"a whole number from 1 to {_MAX_QUANTITY}")
    return int(value)


def _price(line: int, value: str) -> Decimal:
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise _bad(line, "unit_price", value, "a price like 19.99") from None
    exponent = price.as_tuple().exponent
    if (
        not price.is_finite()
        or not Decimal(0) <= price < _MAX_PRICE
        or (isinstance(exponent, int) and exponent < -2)
    ):
        raise _bad(line, "unit_price", value, "a price like 19.99 (0 or more, 2 decimals)")
    return price
