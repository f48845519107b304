"""Per-node state folder: the board's flash filesystem and the node's persistent stores.

A node owns one host folder for the whole run. It survives a firmware reboot (a reboot
reruns the firmware with fresh modules, but what the firmware wrote is still there, as on
a board's flash) and holds two things kept apart so that the firmware never sees the
host's bookkeeping:

* ``fs/`` — the root of the firmware's filesystem (``open``, ``os.listdir`` ...);
* ``stores/<name>.json`` — key/value stores for the host side (bond keys, secrets),
  written atomically.

Every write that replaces a file goes through :func:`atomic_write_bytes`: write a
temporary file in the same folder, flush it, then ``os.replace`` it over the target, so a
crash or a reboot never leaves half a file behind.
"""

from __future__ import annotations

import json
import os
import posixpath
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["JsonStore", "StateFolder", "atomic_write_bytes", "atomic_write_text"]


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file + ``os.replace``)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``text`` atomically."""
    atomic_write_bytes(path, text.encode(encoding))


class JsonStore:
    """A JSON object in one file, read whole and written whole (atomically).

    Used for bond keys and secrets: small, rarely written, and they must survive a reboot
    intact. Keys are sorted on write so the file is byte-identical between identical runs.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        """The stored object, or ``{}`` when nothing was stored yet."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        value = json.loads(raw.decode("utf-8"))
        if not isinstance(value, dict):
            raise ValueError(f"{self.path}: expected a JSON object")
        return value

    def save(self, value: dict[str, Any]) -> None:
        atomic_write_text(self.path, json.dumps(value, sort_keys=True, indent=1) + "\n")

    def get(self, key: str, default: Any = None) -> Any:
        return self.load().get(key, default)

    def put(self, key: str, value: Any) -> None:
        data = self.load()
        data[key] = value
        self.save(data)

    def delete(self, key: str) -> None:
        data = self.load()
        if key in data:
            del data[key]
            self.save(data)


class StateFolder:
    """The host folder behind one node: ``fs/`` for the firmware, ``stores/`` for the host."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.fs_root = self.root / "fs"
        self.stores_root = self.root / "stores"
        self.fs_root.mkdir(parents=True, exist_ok=True)

    def store(self, name: str) -> JsonStore:
        """The key/value store ``name`` (``"bonds"``, ``"secrets"`` ...)."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"bad store name {name!r}")
        return JsonStore(self.stores_root / f"{name}.json")

    def fs_path(self, virtual: str) -> Path:
        """Host path of an absolute firmware path (``"/usr/a.txt"``); never escapes ``fs/``."""
        rel = posixpath.normpath("/" + virtual).lstrip("/")
        return self.fs_root / rel if rel and rel != "." else self.fs_root

    def makedirs(self, virtual: str) -> None:
        """Create a folder of the firmware filesystem (``"/usr"`` on QuecPython boards)."""
        self.fs_path(virtual).mkdir(parents=True, exist_ok=True)

    def write_file(self, virtual: str, data: bytes) -> None:
        """Put a file into the firmware filesystem (atomically), e.g. before boot."""
        atomic_write_bytes(self.fs_path(virtual), data)

    def read_file(self, virtual: str) -> bytes:
        return self.fs_path(virtual).read_bytes()
