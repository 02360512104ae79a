"""Generated sales CSVs for demos, tests and benchmarks (``python -m reference_app sample-csv N``).

Deterministic: row ``i`` is always the same, so totals can be checked. 3 regions, 4 products,
quantities 1-5, unit prices 1.00-9.99, dates spread over 2026.
"""

from __future__ import annotations

from reference_app.csv_format import HEADER

__all__ = ["sales_csv"]

_REGIONS = ("emea", "apac", "amer")
_PRODUCTS = ("widget", "gadget", "gizmo", "doohickey")


def sales_csv(rows: int, *, start: int = 0) -> bytes:
    """A valid sales CSV with ``rows`` data rows, numbered from ``start``.

    Raises ValueError for a negative count.
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, e.g. rows=1000, got {rows}")
    lines = [",".join(HEADER) + "\n"]
    for i in range(start, start + rows):
        day, month = 1 + i % 28, 1 + (i // 28) % 12
        price = f"{1 + i % 9}.{i % 100:02d}"
        region, product = _REGIONS[i % 3], _PRODUCTS[i % 4]
        lines.append(f"2026-{month:02d}-{day:02d},{region},{product},{1 + i % 5},{price}\n")
    return "".join(lines).encode()
