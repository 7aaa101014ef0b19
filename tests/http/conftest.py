"""An app over a fresh in-memory container, and tokens to call it with."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from entrypoints.container import Container, build_container
from entrypoints.http.app import create_app
from entrypoints.http.auth import mint_token
from entrypoints.settings import Settings

SECRET = "test-secret-" + "x" * 40

Headers = dict[str, str]
TokenFor = Callable[..., Headers]


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return build_container(
        Settings.from_env(
            {
                "TASKSPOOL_DATA_DIR": str(tmp_path),
                "DATABASE_URL": "memory://",
                "TASKSPOOL_SECRET": SECRET,
            }
        )
    )


@pytest.fixture
def client(container: Container) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(container)) as client:
        yield client


def bearer(user: str, *, admin: bool = False, ttl: timedelta = timedelta(hours=1)) -> Headers:
    # Tokens are checked against the real time by PyJWT, so they are minted with it too.
    token = mint_token(secret=SECRET, user=user, admin=admin, now=datetime.now(UTC), ttl=ttl)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def ada() -> Headers:
    return bearer("ada")


@pytest.fixture
def bob() -> Headers:
    return bearer("bob")


@pytest.fixture
def admin() -> Headers:
    return bearer("root", admin=True)
