"""Query timing: every execute() through a pooled cursor is timed and reported to one hook.

The pools pass a cursor class made by :meth:`QueryObserver.cursor_class` as ``cursor_factory``, so
``conn.execute()`` and ``conn.cursor().execute()`` are both timed with no change to app code. Labels
stay few: the operation is the statement's first keyword from a fixed set, the table is the first
table the statement names if it is in the allow-list, otherwise ``other``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from time import perf_counter
from typing import Any, Self

import psycopg
from psycopg import sql
from psycopg.abc import Params, Query

from app_support.hooks import QueryHook  # re-exported: defined once there

__all__ = ["OTHER", "QueryHook", "QueryObserver", "classify"]

logger = logging.getLogger(__name__)

OTHER = "other"
_OPERATIONS = frozenset(
    {"select", "insert", "update", "delete", "merge", "copy", "with", "values", "truncate",
     "begin", "commit", "rollback", "create", "alter", "drop", "call", "set", "show", "explain"}
)  # fmt: skip
_IDENT = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_TABLE_RE = re.compile(
    rf"\b(?:from|into|update|copy|join|truncate(?:\s+table)?)\s+(?:only\s+)?((?:{_IDENT}\.)?{_IDENT})",
    re.IGNORECASE,
)
_FIRST_WORD_RE = re.compile(r"\s*(?:/\*.*?\*/\s*|--[^\n]*\n\s*)*\(?\s*([A-Za-z]+)", re.DOTALL)


@lru_cache(maxsize=2048)
def _parse(text: str) -> tuple[str, str]:
    """(operation, bare lower-case table name or "") of a statement; cached as apps repeat them."""
    word = _FIRST_WORD_RE.match(text)
    operation = word.group(1).lower() if word else ""
    table = _TABLE_RE.search(text)
    name = table.group(1).rsplit(".", 1)[-1] if table else ""
    name = name[1:-1] if name.startswith('"') else name.lower()
    return (operation if operation in _OPERATIONS else OTHER), name


def classify(text: str, tables: frozenset[str]) -> tuple[str, str]:
    """The (operation, table) labels of a statement for an allow-list of table names."""
    operation, name = _parse(text)
    return operation, (name if name in tables else OTHER)


def _query_text(query: Query, context: Any) -> str:
    if isinstance(query, str):
        return query
    if isinstance(query, bytes):
        return query.decode(errors="replace")
    if isinstance(query, sql.Composable):
        return query.as_string(context)
    return ""  # a t-string Template: labelled "other"


class QueryObserver:
    """Times queries for one pool, calls ``on_query`` and counts failures."""

    def __init__(self, tables: Iterable[str] = (), on_query: QueryHook | None = None) -> None:
        self.tables = frozenset(tables)
        self.on_query = on_query
        self._lock = threading.Lock()
        self.errors = 0

    def observe(self, query: Query, context: Any, seconds: float, failed: bool) -> None:
        if query == "":
            return  # psycopg_pool's liveness check, not an app query
        if failed:
            with self._lock:
                self.errors += 1
        if self.on_query is None:
            return
        operation, table = classify(_query_text(query, context), self.tables)
        try:
            self.on_query(operation, table, seconds, failed)
        except Exception:
            # A broken metrics hook must not fail the app's query.
            logger.exception("on_query hook failed")

    def pop_errors(self) -> int:
        with self._lock:
            errors, self.errors = self.errors, 0
        return errors

    def cursor_class(self) -> type[psycopg.Cursor[Any]]:
        """A psycopg Cursor subclass reporting to this observer (for ``cursor_factory``)."""
        observe = self.observe

        class TimedCursor(psycopg.Cursor[Any]):
            def execute(self, query: Any, params: Params | None = None, **kwargs: Any) -> Self:
                start = perf_counter()
                try:
                    result = super().execute(query, params, **kwargs)
                except Exception:
                    observe(query, self, perf_counter() - start, True)
                    raise
                observe(query, self, perf_counter() - start, False)
                return result

            def executemany(
                self, query: Query, params_seq: Iterable[Params], **kwargs: Any
            ) -> None:
                start = perf_counter()
                try:
                    super().executemany(query, params_seq, **kwargs)
                except Exception:
                    observe(query, self, perf_counter() - start, True)
                    raise
                observe(query, self, perf_counter() - start, False)

        return TimedCursor

    def async_cursor_class(self) -> type[psycopg.AsyncCursor[Any]]:
        """A psycopg AsyncCursor subclass reporting to this observer (for ``cursor_factory``)."""
        observe = self.observe

        class AsyncTimedCursor(psycopg.AsyncCursor[Any]):
            async def execute(
                self, query: Any, params: Params | None = None, **kwargs: Any
            ) -> Self:
                start = perf_counter()
                try:
                    result = await super().execute(query, params, **kwargs)
                except Exception:
                    observe(query, self, perf_counter() - start, True)
                    raise
                observe(query, self, perf_counter() - start, False)
                return result

            async def executemany(
                self, query: Query, params_seq: Iterable[Params], **kwargs: Any
            ) -> None:
                start = perf_counter()
                try:
                    await super().executemany(query, params_seq, **kwargs)
                except Exception:
                    observe(query, self, perf_counter() - start, True)
                    raise
                observe(query, self, perf_counter() - start, False)

        return AsyncTimedCursor
