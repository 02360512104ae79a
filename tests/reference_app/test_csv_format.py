import datetime as dt
from decimal import Decimal

import pytest

from reference_app.csv_format import CsvFormatError, check_content_type, parse_sales_csv

HEADER = b"date,region,product,quantity,unit_price\n"


def test_parses_rows_with_their_line_numbers() -> None:
    data = (
        "\ufeff".encode()
        + HEADER
        + b'2026-01-31,emea,widget,3,19.99\n\n2026-02-01," apac ",gadget,1,5\n'
    )
    rows = parse_sales_csv(data)
    assert [(r.line, r.date, r.region, r.quantity, r.unit_price) for r in rows] == [
        (2, dt.date(2026, 1, 31), "emea", 3, Decimal("19.99")),
        (4, dt.date(2026, 2, 1), "apac", 1, Decimal("5")),
    ]


@pytest.mark.parametrize(
    ("data", "code", "message"),
    [
        (b"", "empty_file", "the file is empty"),
        (HEADER, "no_rows", "no data rows"),
        (b"day,region,product,quantity,unit_price\n1,2,3,4,5\n", "invalid_header", "line 1"),
        (HEADER + b"2026-01-31,emea,widget,3\n", "malformed_row", "line 2: expected 5 fields"),
        (HEADER + b'2026-01-31,"emea,widget,3,1\n', "malformed_csv", "line 2: malformed CSV"),
        (HEADER + b"2026-13-01,emea,widget,3,1\n", "invalid_value", "line 2, column 'date'"),
        (HEADER + b"2026-01-01,,widget,3,1\n", "invalid_value", "column 'region'"),
        (HEADER + b"2026-01-01,emea,widget,-3,1\n", "invalid_value", "column 'quantity'"),
        (HEADER + b"2026-01-01,emea,widget,\xc2\xb2,1\n", "invalid_value", "column 'quantity'"),
        (HEADER + b"2026-01-01,emea,widget,3,1.999\n", "invalid_value", "column 'unit_price'"),
        (HEADER + b"2026-01-01,emea,widget,3,NaN\n", "invalid_value", "column 'unit_price'"),
        (
            HEADER + b"2026-01-01,emea,widget,3,1\n2026-01-01,\xff,x,1,1\n",
            "invalid_encoding",
            "line 3",
        ),
    ],
)
def test_rejects_bad_files_naming_the_problem(data: bytes, code: str, message: str) -> None:
    with pytest.raises(CsvFormatError) as caught:
        parse_sales_csv(data)
    assert caught.value.code == code
    assert message in str(caught.value)


def test_content_types() -> None:
    check_content_type("text/csv; charset=utf-8")
    with pytest.raises(CsvFormatError, match="'application/pdf' is not a CSV type"):
        check_content_type("application/pdf")
