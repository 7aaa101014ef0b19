"""The four packages must come from this repository's src/, not from PyPI namesakes."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.mark.parametrize("package", ["domain", "application", "adapters", "entrypoints"])
def test_package_is_imported_from_this_repository(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == SRC / package
