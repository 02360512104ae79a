"""Moving a schema up or down its numbered migrations, one step per transaction, under a lock.

Every migration has an ``up`` and a ``down`` step. :func:`migrate_schema` walks from the version the
database is at (the highest one recorded in ``schema_migrations``) to the one asked for. Each step
is its own transaction that first takes a transaction-scoped PostgreSQL advisory lock, then reads
``schema_migrations`` again: processes migrating at the same time (replicas starting together, or
two operators) queue on the lock, and whoever gets it applies the next step once and records it;
the others find it done. A process that dies mid-step leaves the schema at the last whole step.

A down step that drops a table or a column drops what it holds. Each migration declares those
objects (:class:`Drop`); before any step of a walk down, every planned down step's objects are
counted, and the walk is refused (:class:`DataLossRefused`, nothing changed) while any holds data,
unless ``allow_data_loss`` is given. Each step counts again in its own transaction after locking the
tables it drops, so rows written meanwhile are not dropped silently either; an allowed step
reports what it dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import AsyncConnection, sql

__all__ = [
    "MIGRATION_LOCK_KEY",
    "DataLossRefused",
    "Drop",
    "Loss",
    "Migration",
    "MigrationError",
    "MigrationResult",
    "Step",
    "check_target",
    "migrate_schema",
]

log = logging.getLogger(__name__)

# An arbitrary constant shared by every replica: the advisory lock's identity.
MIGRATION_LOCK_KEY = 0x7265665F617070  # "ref_app"


@dataclass(frozen=True, slots=True)
class Drop:
    """A table (``column`` None) or one column of a table that a down step drops."""

    table: str
    column: str | None = None

    def __str__(self) -> str:
        if self.column is None:
            return f"table {self.table}"
        return f"column {self.table}.{self.column}"

    def count_query(self) -> sql.Composed:
        """Rows of the table, or the column's non-null values (an unused column loses nothing)."""
        counted = sql.SQL("*") if self.column is None else sql.Identifier(self.column)
        return sql.SQL("SELECT count({}) FROM {}").format(counted, sql.Identifier(self.table))


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change: ``up`` makes it, ``down`` undoes it, ``drops`` lists what down drops.

    ``drops`` must name every table and column ``down`` drops; each is counted before ``down``
    runs, against any later version too (a later migration that renames one updates it here).
    """

    version: int
    name: str
    up: str
    down: str
    drops: tuple[Drop, ...] = ()


@dataclass(frozen=True, slots=True)
class Loss:
    """What one :class:`Drop` would destroy now."""

    drop: Drop
    count: int

    def __str__(self) -> str:
        unit = "row" if self.drop.column is None else "value"
        return f"{self.drop} holding {self.count} {unit}{'' if self.count == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class Step:
    """One migration applied (``up``) or reverted (``down``), with what reverting it dropped."""

    migration: Migration
    direction: Literal["up", "down"]
    lost: tuple[Loss, ...] = ()

    def __str__(self) -> str:
        done = "applied" if self.direction == "up" else "reverted"
        text = f"migration {self.migration.version} ({self.migration.name}) {done}"
        return f"{text}; dropped {_and(str(loss) for loss in self.lost)}" if self.lost else text


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """The version the database is at after :func:`migrate_schema`, and the steps it took."""

    version: int
    steps: list[Step]


class MigrationError(Exception):
    """The walk asked for cannot be made; the step that raised changed nothing."""


class DataLossRefused(MigrationError):
    """Down steps would drop data; ``refused`` pairs each such migration with its losses."""

    def __init__(self, refused: Sequence[tuple[Migration, Sequence[Loss]]], version: int) -> None:
        self.refused = refused
        self.version = version
        reasons = "; ".join(
            f"reverting migration {migration.version} ({migration.name}) would drop "
            + _and(str(loss) for loss in losses)
            for migration, losses in refused
        )
        super().__init__(f"{reasons}; refused, the database stays at version {version}")


def _and(items: Iterable[str]) -> str:
    words = list(items)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def check_target(migrations: Sequence[Migration], to: int | None) -> None:
    """Raise MigrationError unless ``to`` is None (the newest) or a version from 0 to the newest."""
    newest = migrations[-1] if migrations else None
    if to is None or 0 <= to <= (newest.version if newest else 0):
        return
    top = f"{newest.version} ({newest.name})" if newest else "0"
    raise MigrationError(f"no schema version {to}; versions go from 0 (no tables) to {top}")


async def migrate_schema(
    conn: AsyncConnection[Any],
    migrations: Sequence[Migration],
    *,
    to: int | None = None,
    schema: str | None = None,
    allow_data_loss: bool = False,
    on_step: Callable[[Step], None] | None = None,
) -> MigrationResult:
    """Move the schema to version ``to``; ``None`` applies every missing migration, never reverts.

    ``None`` is what replicas do at start-up: a database that a newer release moved past this one's
    migrations is left as it is (and logged), so rolling the app back does not revert the schema.
    ``schema`` (DATABASE_URL's ``?schema=``, already on the connection's search_path) is created
    when missing. ``on_step`` is called after each step commits.

    Blocks while another process migrates. Raises MigrationError for a ``to`` out of range or a
    recorded version this code does not know on the way down, DataLossRefused (see the module
    doc), psycopg.Error when the database refuses a step (that step is rolled back; the steps
    before it stay).
    """
    check_target(migrations, to)
    steps: list[Step] = []
    while True:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            if not steps:
                await _prepare(conn, schema)
            applied = await _applied(conn)
            plan = _plan(migrations, applied, to)
            if not plan:
                return MigrationResult(max(applied, default=0), steps)
            # The drop takes these locks anyway; taken before counting, no row can be written
            # between the count and the drop.
            await _lock_drops(conn, plan[0])
            if not allow_data_loss:
                await _refuse_losses(conn, plan, max(applied, default=0))
            lost = await _losses(conn, plan[0]) if allow_data_loss else ()
            step = Step(plan[0].migration, plan[0].direction, lost)
            await _run(conn, step)
        steps.append(step)
        log.info("%s", step)
        if on_step is not None:
            on_step(step)


async def _prepare(conn: AsyncConnection[Any], schema: str | None) -> None:
    if schema is not None:
        await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


async def _applied(conn: AsyncConnection[Any]) -> set[int]:
    cursor = await conn.execute("SELECT version FROM schema_migrations")
    return {row[0] for row in await cursor.fetchall()}


def _plan(migrations: Sequence[Migration], applied: set[int], to: int | None) -> list[Step]:
    """The steps from ``applied`` to ``to``: down steps newest first, then up steps oldest first."""
    known = {migration.version: migration for migration in migrations}
    unknown = sorted(applied - known.keys())
    if to is None:
        if unknown:
            log.warning(
                "the database has migrations %s, which this release does not know (a newer "
                "release applied them); leaving them in place",
                unknown,
            )
        return [Step(m, "up") for m in migrations if m.version not in applied]
    if unknown:  # check_target keeps ``to`` at most the newest known, so these are above it
        raise MigrationError(
            f"the database has migration {unknown[-1]}, which this release does not know; "
            "revert it with the release that added it"
        )
    down = [Step(known[v], "down") for v in sorted(applied, reverse=True) if v > to]
    up = [Step(m, "up") for m in migrations if m.version <= to and m.version not in applied]
    return down + up


async def _lock_drops(conn: AsyncConnection[Any], step: Step) -> None:
    tables = dict.fromkeys(drop.table for drop in step.migration.drops)
    if step.direction == "down" and tables:
        names = sql.SQL(", ").join(sql.Identifier(table) for table in tables)
        await conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(names))


async def _losses(conn: AsyncConnection[Any], step: Step) -> tuple[Loss, ...]:
    """What ``step`` would drop now (nothing for an up step)."""
    losses = []
    for drop in step.migration.drops if step.direction == "down" else ():
        cursor = await conn.execute(drop.count_query())
        count: int = (await cursor.fetchone() or (0,))[0]
        if count:
            losses.append(Loss(drop, count))
    return tuple(losses)


async def _refuse_losses(conn: AsyncConnection[Any], plan: list[Step], version: int) -> None:
    refused = [(step.migration, lost) for step in plan if (lost := await _losses(conn, step))]
    if refused:
        raise DataLossRefused(refused, version)


async def _run(conn: AsyncConnection[Any], step: Step) -> None:
    migration = step.migration
    if step.direction == "up":
        await conn.execute(migration.up.encode())
        await conn.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
            (migration.version, migration.name),
        )
    else:
        await conn.execute(migration.down.encode())
        await conn.execute("DELETE FROM schema_migrations WHERE version = %s", (migration.version,))
