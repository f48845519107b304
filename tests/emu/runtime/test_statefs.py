"""State folder helpers: atomic writes and JSON stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emu.runtime import JsonStore, StateFolder, atomic_write_bytes


def test_atomic_write_replaces_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "d" / "f.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(tmp_path / "d") == ["f.bin"]


def test_failed_atomic_write_keeps_the_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_json_store_round_trip_and_stable_bytes(tmp_path: Path) -> None:
    state = StateFolder(tmp_path / "node")
    store = state.store("bonds")
    assert store.load() == {} and store.get("peer") is None
    store.put("zeta", 1)
    store.put("alpha", {"ltk": "00ff"})
    assert store.load() == {"alpha": {"ltk": "00ff"}, "zeta": 1}
    assert store.path.read_bytes() == b'{\n "alpha": {\n  "ltk": "00ff"\n },\n "zeta": 1\n}\n'
    store.delete("zeta")
    assert JsonStore(store.path).load() == {"alpha": {"ltk": "00ff"}}
    assert store.path == tmp_path / "node" / "stores" / "bonds.json"


def test_store_names_are_checked(tmp_path: Path) -> None:
    state = StateFolder(tmp_path)
    for bad in ("", "../x", "a/b", ".hidden"):
        with pytest.raises(ValueError):
            state.store(bad)


def test_json_store_refuses_a_non_object(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError):
        JsonStore(path).load()


def test_firmware_files_are_kept_apart_from_stores(tmp_path: Path) -> None:
    state = StateFolder(tmp_path / "n")
    state.makedirs("/usr")
    state.write_file("/usr/a.txt", b"hi")
    assert state.read_file("/usr/a.txt") == b"hi"
    assert (tmp_path / "n" / "fs" / "usr" / "a.txt").read_bytes() == b"hi"
    assert state.fs_path("/../../x") == tmp_path / "n" / "fs" / "x"
    assert state.fs_path("/") == tmp_path / "n" / "fs"
