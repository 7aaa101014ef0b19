"""The local file store: one folder per owner, nothing written outside the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.files import LocalFileStore, owner_folder
from domain.errors import PermanentTaskError


def test_each_owner_writes_into_a_folder_of_their_own(tmp_path: Path) -> None:
    store = LocalFileStore(root=tmp_path)

    ada = store.write("out.csv", b"ada\r\n", owner="ada")
    bob = store.write("out.csv", b"bob\r\n", owner="bob")

    assert Path(ada).read_bytes() == b"ada\r\n"
    assert Path(bob).read_bytes() == b"bob\r\n"
    assert store.open_path("out.csv", owner="ada") == ada


@pytest.mark.parametrize("owner", ["../x", "a/b", ".hidden", "~cafe", "ü", "a" * 65, ""])
def test_an_owner_name_that_is_not_plain_gets_a_hashed_folder_inside_the_root(
    tmp_path: Path, owner: str
) -> None:
    store = LocalFileStore(root=tmp_path)

    path = Path(store.write("out.csv", b"x", owner=owner))

    assert path.parent.parent == tmp_path.resolve()
    assert path.parent.name == owner_folder(owner)
    assert path.parent.name.startswith("~")


@pytest.mark.parametrize("name", ["../escape.csv", "/abs.csv", ".hidden.csv", "a\\b.csv", ""])
def test_a_name_that_is_not_a_plain_file_name_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(PermanentTaskError):
        LocalFileStore(root=tmp_path).write(name, b"x", owner="ada")
    assert not any(tmp_path.rglob("*.csv"))


def test_a_missing_file_is_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalFileStore(root=tmp_path).open_path("nope.csv", owner="ada")


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    store = LocalFileStore(root=tmp_path)
    store.write("out.csv", b"x", owner="ada")
    assert [p.name for p in (tmp_path / "ada").iterdir()] == ["out.csv"]
