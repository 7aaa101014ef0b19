"""The `taskspool` command: serve, worker, migrate, token, enqueue, tasks list/show."""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from types import FrameType
from typing import NoReturn

import msgspec
import uvicorn
from sqlalchemy.exc import SQLAlchemyError

from application.actor import Actor
from application.errors import ApplicationError
from application.ports import TaskQuery
from entrypoints import arguments
from entrypoints.container import Container, build_container
from entrypoints.http.app import create_app
from entrypoints.http.auth import mint_token
from entrypoints.http.schemas import task_view
from entrypoints.settings import Settings, SettingsError, StorageKind
from entrypoints.storage import (
    StorageNotReady,
    notifications,
    prepare_outputs,
    prepare_storage,
    usable_directory,
)
from entrypoints.worker import Worker

log = logging.getLogger(__name__)

#: The operator at the command line sees every task, like an admin token would.
OPERATOR = Actor(name="taskspool-cli", is_admin=True)
EXIT_FAILURE = 1
EXIT_USAGE = 2

Command = Callable[[argparse.Namespace, Container], int]


class UsageError(Exception):
    """Bad command-line arguments."""


class CannotListen(Exception):
    """`serve` cannot bind its address; nothing has been started."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, so errors stay one line."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def main(argv: Sequence[str] | None = None, *, environ: Mapping[str, str] | None = None) -> int:
    """Run one command; print one readable line on stderr and return non-zero on failure.

    Whatever goes wrong, stderr gets one line and never a traceback; an error nobody
    foresaw also logs its traceback at DEBUG (LOG_LEVEL=DEBUG shows it).
    """
    try:
        return _run(argv, environ)
    except Exception as exc:
        log.debug("unexpected error", exc_info=exc)
        return _fail(
            f"taskspool: unexpected error: {type(exc).__name__}: {_first_line(exc)}",
            EXIT_FAILURE,
        )


def _run(argv: Sequence[str] | None, environ: Mapping[str, str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    try:
        settings = Settings.from_env(os.environ if environ is None else environ)
    except SettingsError as exc:
        return _fail(f"taskspool: bad setting: {exc}", EXIT_USAGE)
    _configure_logging(settings)
    command: Command = args.run
    try:
        return command(args, build_container(settings))
    except (SettingsError, StorageNotReady, CannotListen, ApplicationError, ValueError) as exc:
        return _fail(f"taskspool: {exc}", EXIT_FAILURE)
    except SQLAlchemyError as exc:
        # Driver messages run over several lines; the first says what went wrong.
        return _fail(f"taskspool: database error: {_first_line(exc)}", EXIT_FAILURE)
    except OSError as exc:
        return _fail(f"taskspool: {exc}", EXIT_FAILURE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="taskspool", description="A database-backed task queue service.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API and a worker in one process")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=arguments.tcp_port, default=8000, help="port to listen on")
    serve.set_defaults(run=_serve)

    commands.add_parser("worker", help="run a worker that claims and runs tasks").set_defaults(
        run=_work
    )
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        run=_migrate
    )

    token = commands.add_parser("token", help="print a signed API token (JWT)")
    token.add_argument(
        "--user", required=True, type=arguments.user_name, help="the user the token names"
    )
    token.add_argument("--admin", action="store_true", help="let the token see every task")
    token.add_argument(
        "--ttl", type=arguments.token_ttl, default=86_400, help="lifetime in seconds"
    )
    token.set_defaults(run=_token)

    enqueue = commands.add_parser("enqueue", help="queue a task and print its id")
    enqueue.add_argument("type", help="task type, such as csv_generation")
    enqueue.add_argument("--payload", type=arguments.json_object, default={}, help="JSON object")
    enqueue.add_argument(
        "--user", required=True, type=arguments.user_name, help="owner of the task"
    )
    enqueue.add_argument("--max-attempts", type=arguments.positive_int, default=3)
    enqueue.add_argument("--priority", type=int, default=0, help="higher runs first")
    enqueue.set_defaults(run=_enqueue)

    tasks = commands.add_parser("tasks", help="inspect tasks").add_subparsers(
        title="tasks commands", metavar="COMMAND", required=True
    )
    listing = tasks.add_parser("list", help="list tasks, newest first")
    listing.add_argument(
        "--status", type=arguments.task_status, help="pending, in_progress, completed, ..."
    )
    listing.add_argument("--type", dest="task_type", help="only tasks of this type")
    listing.add_argument("--user", type=arguments.user_name, help="only tasks this user owns")
    listing.add_argument("--page", type=arguments.page_number, default=1)
    listing.add_argument("--limit", type=arguments.page_limit, default=20)
    listing.set_defaults(run=_list)
    show = tasks.add_parser("show", help="print one task as JSON")
    show.add_argument("task_id", type=arguments.task_id, metavar="ID")
    show.set_defaults(run=_show)
    return parser


# Commands


def _serve(args: argparse.Namespace, container: Container) -> int:
    # Bind first: if the address is taken, stop before any storage or worker starts.
    listening = _listen(args.host, args.port)
    with listening:
        prepare_outputs(container)
        prepare_storage(container)
        worker = container.worker()
        app = create_app(container, worker=worker)
        settings = container.settings()
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_config=None,
            log_level=settings.log_level.lower(),
        )
        log.info("serving http://%s:%d with %s storage", args.host, args.port, settings.storage)
        server = uvicorn.Server(config)
        with notifications(container):
            server.run(sockets=[listening])
    return 0 if server.started else EXIT_FAILURE


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` and listening; CannotListen says why not."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        return socket.create_server((host, port), family=addresses[0][0], backlog=2048)
    except OSError as exc:
        # create_server appends the address to strerror; the errno alone says why.
        if exc.errno is not None and exc.errno > 0 and not isinstance(exc, socket.gaierror):
            reason = os.strerror(exc.errno)
        else:
            reason = exc.strerror or str(exc)
        raise CannotListen(f"cannot listen on {host}:{port}: {reason.lower()}") from None


def _work(args: argparse.Namespace, container: Container) -> int:
    if container.settings().storage is StorageKind.MEMORY:
        raise StorageNotReady(
            "a separate worker needs a database shared with the API; "
            "DATABASE_URL=memory:// works only with `taskspool serve`"
        )
    prepare_outputs(container)
    prepare_storage(container)
    worker = container.worker()
    _stop_on_signals(worker)
    with notifications(container):
        worker.run()
    return 0


def _migrate(args: argparse.Namespace, container: Container) -> int:
    prepare_storage(container, migrate=True)
    print("database schema is up to date")
    return 0


def _token(args: argparse.Namespace, container: Container) -> int:
    usable_directory(container.settings().data_dir, variable="TASKSPOOL_DATA_DIR")
    token = mint_token(
        secret=container.secret(),
        user=args.user,
        admin=args.admin,
        now=container.clock().now(),
        ttl=timedelta(seconds=args.ttl),
    )
    print(token)
    return 0


def _enqueue(args: argparse.Namespace, container: Container) -> int:
    _needs_shared_storage(container, "enqueue")
    prepare_storage(container)
    task = container.task_service().enqueue(
        actor=Actor(name=args.user),
        type=args.type,
        payload=args.payload,
        max_attempts=args.max_attempts,
        priority=args.priority,
    )
    print(task.id)
    if args.type not in container.handlers():
        print(f"taskspool: note: no handler is registered for {args.type!r}", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace, container: Container) -> int:
    _needs_shared_storage(container, "tasks list")
    prepare_storage(container)
    query = TaskQuery(
        owner=args.user, type=args.task_type, status=args.status, page=args.page, limit=args.limit
    )
    page = container.task_service().list(actor=OPERATOR, query=query)
    for task in page.items:
        print(
            f"{task.id}  {task.status:<11}  {task.type:<20}  {task.owner:<16}  "
            f"attempts {task.attempts}/{task.max_attempts}  created {task.created_at.isoformat()}"
        )
    pages = max(1, math.ceil(page.total / args.limit))
    print(f"page {args.page} of {pages}; {page.total} tasks in all")
    return 0


def _show(args: argparse.Namespace, container: Container) -> int:
    _needs_shared_storage(container, "tasks show")
    prepare_storage(container)
    task = container.task_service().get(actor=OPERATOR, task_id=args.task_id)
    print(msgspec.json.format(msgspec.json.encode(task_view(task)), indent=2).decode())
    return 0


# Helpers


def _needs_shared_storage(container: Container, command: str) -> None:
    if container.settings().storage is StorageKind.MEMORY:
        raise StorageNotReady(
            f"`taskspool {command}` needs a database; DATABASE_URL=memory:// keeps tasks "
            "inside one `taskspool serve` process"
        )


def _stop_on_signals(worker: Worker) -> None:
    """SIGINT/SIGTERM stop the worker gracefully; a second one exits at once."""

    def first(signum: int, _: FrameType | None) -> None:
        log.info("received %s; finishing running tasks", signal.Signals(signum).name)
        worker.stop()
        signal.signal(signal.SIGINT, second)
        signal.signal(signal.SIGTERM, second)

    def second(signum: int, _: FrameType | None) -> None:
        log.warning("received %s again; exiting without waiting", signal.Signals(signum).name)
        os._exit(EXIT_FAILURE)

    signal.signal(signal.SIGINT, first)
    signal.signal(signal.SIGTERM, first)


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if settings.log_level != "DEBUG":
        # Alembic narrates every step at INFO; prepare_storage logs the one line that matters.
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _first_line(exc: Exception) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _fail(message: str, code: int) -> int:
    print(" ".join(message.split()), file=sys.stderr)
    return code
