"""Business counters of the reference app's CSV imports."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter

__all__ = ["IMPORT_RESULTS", "ImportMetrics"]

IMPORT_RESULTS = ("success", "failure")


class ImportMetrics:
    """``imports_total{result}`` (success | failure) and ``import_rows_total``.

    Both results are present from the start at 0, so ``rate()`` and ratios work before the first
    failure. Raises ``ValueError`` (from prometheus-client) when ``registry`` already has them.
    """

    def __init__(self, *, registry: CollectorRegistry | None = REGISTRY) -> None:
        imports = Counter(
            "imports_total", "Finished CSV imports by result", ["result"], registry=registry
        )
        self._results = {result: imports.labels(result) for result in IMPORT_RESULTS}
        self._rows = Counter("import_rows_total", "Rows imported from CSV files", registry=registry)

    def record(self, *, success: bool, rows: int = 0) -> None:
        """Count one finished import and the rows it stored. Raises ``ValueError`` if rows < 0."""
        if rows < 0:
            raise ValueError(f"rows must be >= 0 (example: rows=120), got {rows}")
        self._results["success" if success else "failure"].inc()
        if rows:
            self._rows.inc(rows)
