"""``python -m reference_app web | worker | migrate | add-user NAME``.

- ``web``: the ASGI app under uvicorn on ``0.0.0.0:$PORT`` (default 8000).
- ``worker``: the import/analytics worker; its /metrics is served on ``$PORT`` too. SIGTERM
  finishes the job in hand, then exits.
- ``migrate [--to N] [--allow-data-loss]``: move the schema up or down to version N (default: the
  newest) one migration at a time, print each step, exit; a down step that would drop data is
  refused unless ``--allow-data-loss`` (web and worker apply missing migrations at start-up).
- ``sample-csv N``: print a generated sales CSV of N rows (demo data).
- ``add-user NAME``: create a user (or reset their password), reading the password from stdin,
  e.g. ``printf '%s' "$PASSWORD" | python -m reference_app add-user alice``.

Every setting is read before anything starts; a bad one ends the command with one line naming
the variable and a good value (exit status 78, EX_CONFIG), not a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from app_support.env import ConfigError
from app_support.health import HealthSettings
from app_support.metrics import MetricsEndpoint, MetricsSettings, start_metrics_server
from app_support.postgres import AsyncDatabasePool, DatabaseSettings, DatabaseUnavailable
from app_support.redis import RedisSettings
from reference_app.config import AppConfig
from reference_app.migrations import DataLossRefused, MigrationError, check_target
from reference_app.sample_data import sales_csv
from reference_app.schema import MIGRATIONS, NEWEST, migrate
from reference_app.services import TABLES, open_services
from reference_app.users import create_user
from reference_app.web.server import serve
from reference_app.worker import Worker

__all__ = ["main"]

log = logging.getLogger("reference_app")

# Every config error of app_support and the app subclasses ConfigError.
CONFIG_ERRORS = (ConfigError,)
EX_CONFIG = 78  # sysexits.h: configuration error
EX_USAGE = 64  # sysexits.h: bad command line
EX_UNAVAILABLE = 69  # sysexits.h: a service (PostgreSQL) is unavailable


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reference_app",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("web", help="serve the HTTP API on $PORT")
    worker = commands.add_parser("worker", help="process import and analytics jobs")
    worker.add_argument(
        "--job-lease", type=float, default=None,
        help="seconds before a dead worker's job is handed out again (default 30)",
    )  # fmt: skip
    migrate = commands.add_parser("migrate", help="move the schema to a version and exit")
    migrate.add_argument(
        "--to", type=int, default=None, metavar="N",
        help=f"schema version to move to, 0 (no tables) to {NEWEST} (default: the newest)",
    )  # fmt: skip
    migrate.add_argument(
        "--allow-data-loss", action="store_true",
        help="let down steps drop tables and columns that hold data",
    )  # fmt: skip
    add_user = commands.add_parser("add-user", help="create a user; password on stdin")
    add_user.add_argument("username")
    sample = commands.add_parser("sample-csv", help="write a generated sales CSV to stdout")
    sample.add_argument("rows", type=int)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command == "sample-csv":
        sys.stdout.buffer.write(sales_csv(args.rows))
        return 0
    try:
        lease = getattr(args, "job_lease", None)
        overrides = {} if lease is None else {"job_lease": lease}
        config = AppConfig.from_env(**overrides)
        _check_settings()
    except CONFIG_ERRORS as exc:
        # One line an operator reads in `docker logs`: the message names the variable.
        print(f"python -m reference_app {args.command}: {exc}", file=sys.stderr)
        return EX_CONFIG
    if args.command == "web":
        return _web(config)
    if args.command == "worker":
        return asyncio.run(_worker(config))
    if args.command == "migrate":
        return asyncio.run(_migrate(args.to, allow_data_loss=args.allow_data_loss))
    password = sys.stdin.read().rstrip("\n")
    return asyncio.run(_add_user(config, args.username, password))


def _check_settings() -> None:
    """Read every settings reader the services use (no I/O), so a bad variable stops here."""
    RedisSettings.from_env()
    DatabaseSettings.from_env()
    MetricsSettings.from_env()
    HealthSettings.from_env()


def _web(config: AppConfig) -> int:
    # uvicorn with header, body and keep-alive bounds (reference_app.web.server).
    serve(config)
    return 0


async def _worker(config: AppConfig) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with open_services(config, role="worker") as services:
        endpoint = MetricsEndpoint(registry=services.registry, settings=services.metrics_settings)
        server = start_metrics_server(endpoint, port=config.port)
        log.info("worker ready; metrics on port %d", server.port)
        try:
            await Worker(services).run(stop)
        finally:
            server.close()
    log.info("worker stopped")
    return 0


async def _migrate(to: int | None, *, allow_data_loss: bool) -> int:
    # Only PostgreSQL: not open_services, which would first apply every missing migration.
    prefix = "python -m reference_app migrate:"
    try:
        check_target(MIGRATIONS, to)
    except MigrationError as exc:
        print(f"{prefix} --to: {exc}", file=sys.stderr)
        return EX_USAGE
    settings = DatabaseSettings.from_env(tables=TABLES, application_name="reference-app-migrate")
    database = AsyncDatabasePool(settings)
    try:
        await database.open()
        async with database.connection() as conn:
            result = await migrate(
                conn, to=to, schema=settings.schema, allow_data_loss=allow_data_loss,
                on_step=lambda step: print(step, flush=True),
            )  # fmt: skip
    except DatabaseUnavailable as exc:
        print(f"{prefix} {exc}", file=sys.stderr)
        return EX_UNAVAILABLE
    except DataLossRefused as exc:
        print(f"{prefix} {exc}; to drop it anyway, rerun with --allow-data-loss", file=sys.stderr)
        return 1
    except MigrationError as exc:
        print(f"{prefix} {exc}", file=sys.stderr)
        return 1
    finally:
        await database.close()
    print(f"schema at version {result.version}" + ("" if result.steps else "; nothing to do"))
    return 0


async def _add_user(config: AppConfig, username: str, password: str) -> int:
    async with (
        open_services(config, role="admin") as services,
        services.database.connection() as conn,
    ):
        user = await create_user(conn, username, password)
    log.info("user %s (id %d) is ready", user.username, user.id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
