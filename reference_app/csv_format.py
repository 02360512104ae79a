"""The CSV shape the reference app imports, and its validation.

One row is one sale: ``date,region,product,quantity,unit_price``, for example
``2026-01-31,emea,widget,3,19.99``. Files are UTF-8 (a byte-order mark is tolerated), comma
separated, with exactly that header on the first line. Every error names the physical line and the
column, so a user can fix the file without guessing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

__all__ = [
    "ACCEPTED_CONTENT_TYPES",
    "HEADER",
    "CsvFormatError",
    "SaleRow",
    "check_content_type",
    "parse_sales_csv",
]

HEADER: tuple[str, ...] = ("date", "region", "product", "quantity", "unit_price")

# Browsers on Windows label .csv files application/vnd.ms-excel; refusing it would refuse them.
ACCEPTED_CONTENT_TYPES = frozenset(
    {"text/csv", "application/csv", "application/vnd.ms-excel", "text/plain"}
)

_MAX_TEXT = 100
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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvFormatError(
            "invalid_encoding", f"line {line}: the file is not valid UTF-8", line=line
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise CsvFormatError(
                "empty_file", f"the file is empty; expected the header {_header()}"
            )
        _check_header(header)
        rows = [_parse_row(reader.line_num, fields) for fields in reader if fields]
    except csv.Error as exc:
        raise CsvFormatError(
            "malformed_csv", f"line {reader.line_num}: malformed CSV ({exc})", line=reader.line_num
        ) from exc
    if not rows:
        raise CsvFormatError("no_rows", "the file has a header but no data rows")
    return rows


def _header() -> str:
    return ",".join(HEADER)


def _check_header(header: list[str]) -> None:
    found = tuple(name.strip().lower() for name in header)
    if found != HEADER:
        raise CsvFormatError(
            "invalid_header",
            f"line 1: header is {','.join(header)!r}; expected {_header()!r}",
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
        f"line {line}, column {column!r}: {value!r} is not {expected}",
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
