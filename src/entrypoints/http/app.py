"""The Litestar application, built from a container; no @inject wiring, just `Provide`."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio.to_thread
from litestar import Litestar, Request, Router, get
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from application.actor import Actor
from application.files import FileStore
from application.jobs import JobSource
from application.payloads import MAX_PAYLOAD_BYTES
from application.tasks import TaskService
from entrypoints.container import Container
from entrypoints.http.auth import BearerAuthMiddleware
from entrypoints.http.bodies import check_json_body
from entrypoints.http.converted import CsvController, JobsController, MatchingController
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.schemas import Health
from entrypoints.http.tasks import TaskController
from entrypoints.worker import Worker

#: Largest request body read: the payload limit plus room for JSON whitespace.
#: Larger bodies get 413 before they are parsed.
MAX_REQUEST_BYTES = MAX_PAYLOAD_BYTES + 65_536


@get("/healthz", operation_id="Health", tags=["health"], sync_to_thread=False)
def healthz() -> Health:
    """Liveness: the process answers. Needs no token."""
    return Health(status="ok")


def current_actor(request: Request[Actor, Any, Any]) -> Actor:
    """The caller the bearer token named (set by BearerAuthMiddleware)."""
    return request.user


def create_app(container: Container, *, worker: Worker | None = None) -> Litestar:
    """The HTTP API over `container`; with `worker`, also runs that worker beside it."""

    def task_service() -> TaskService:
        return container.task_service()

    def files() -> FileStore:
        return container.files()

    def job_source() -> JobSource:
        return container.job_source()

    api = Router(
        path="/api",
        route_handlers=[TaskController, CsvController, JobsController, MatchingController],
        middleware=[DefineMiddleware(BearerAuthMiddleware, secret=container.secret())],
        dependencies={
            "service": Provide(task_service, sync_to_thread=False),
            "actor": Provide(current_actor, sync_to_thread=False),
            "files": Provide(files, sync_to_thread=False),
            "job_source": Provide(job_source, sync_to_thread=False),
        },
        security=[{"bearer": []}],
        before_request=check_json_body,
    )
    lifespan: list[Callable[[Litestar], AbstractAsyncContextManager[None]]] = []
    if worker is not None:
        lifespan.append(_running(worker))
    return Litestar(
        route_handlers=[api, healthz],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="taskspool",
            version="0.1.0",
            path="/schema",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
        ),
        request_max_body_size=MAX_REQUEST_BYTES,
        lifespan=lifespan,
        # The CLI configures logging; Litestar must not replace that configuration.
        logging_config=None,
    )


def _running(worker: Worker) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan that runs `worker` on a thread while the app serves, and stops it after."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        thread = threading.Thread(target=worker.run, name="taskspool-worker", daemon=True)
        thread.start()
        try:
            yield
        finally:
            worker.stop()
            await anyio.to_thread.run_sync(thread.join)

    return lifespan
