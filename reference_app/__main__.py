"""``python -m reference_app web | worker | migrate | add-user NAME``.

- ``web``: the ASGI app under uvicorn on ``0.0.0.0:$PORT`` (default 8000).
- ``worker``: the import/analytics worker; its /metrics is served on ``$PORT`` too. SIGTERM
  finishes the job in hand, then exits.
- ``migrate``: apply the schema migrations and exit (web and worker also migrate at start-up).
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
from app_support.postgres import DatabaseSettings
from app_support.redis import RedisConfigError, RedisSettings
from reference_app.config import AppConfig
from reference_app.sample_data import sales_csv
from reference_app.services import open_services
from reference_app.users import create_user
from reference_app.web.server import serve
from reference_app.worker import Worker

__all__ = ["main"]

log = logging.getLogger("reference_app")

# Every config error of app_support and the app (RedisConfigError shares the wording but not yet
# the base class).
CONFIG_ERRORS = (ConfigError, RedisConfigError)
EX_CONFIG = 78  # sysexits.h: configuration error


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
    commands.add_parser("migrate", help="apply schema migrations and exit")
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
        return asyncio.run(_migrate(config))
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


async def _migrate(config: AppConfig) -> int:
    async with open_services(config, role="migrate"):
        log.info("schema is up to date")
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
