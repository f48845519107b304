"""The node's filesystem, ``os`` and ``random`` stand-ins.

Theory of operation
-------------------
:class:`NodeFS` is the board's filesystem as the firmware sees it, rooted in the node's
state folder (``StateFolder.fs_root``), with a virtual current directory (``/`` at boot):

* a relative path, or an absolute path such as ``/usr/config.json`` or ``/flash/x``,
  names a file of the board: it is mapped under ``fs/`` and ``..`` never leaves it;
* an absolute *host* path inside one of the node's code roots (the firmware folder, its
  ``lib`` paths, per-node packages) is allowed **read-only**, so library code that reads
  files next to its ``__file__`` keeps working; writing there is a ``PermissionError``;
* errors name the firmware's path, never the host path, so logs are identical between
  runs whatever the state folder is.

``make_os_module`` builds an ``os``/``uos`` module whose file functions work in that
filesystem (``listdir`` is sorted; ``stat`` results carry no host times or ids, for
determinism) plus the pure parts of ``os`` (``sep``, ``path.join`` ...). ``urandom`` and
the ``random`` stand-in draw from the node's seeded stream. :class:`NodeConsole` is a
text stream onto the node's output, for personalities' ``sys.stdout`` stand-ins.
"""

from __future__ import annotations

import collections
import errno
import io
import os
import posixpath
import random as _random
import stat as _stat
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from emu.runtime.statefs import StateFolder

__all__ = ["NodeConsole", "NodeFS", "make_os_module", "make_random_module"]

_WRITE_MODES = frozenset("wax+")
_DIR_MODE = _stat.S_IFDIR
_FILE_MODE = _stat.S_IFREG

uname_result = collections.namedtuple("uname_result", "sysname nodename release version machine")


class NodeConsole(io.TextIOBase):
    """A text stream that writes to a node's output (for ``sys.stdout`` stand-ins)."""

    def __init__(self, output: Callable[[str], None]) -> None:
        super().__init__()
        self._output = output

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._output(text)
        return len(text)


class NodeFS:
    """The firmware's view of the node's state folder (see the module docstring)."""

    def __init__(self, state: StateFolder, code_roots: Sequence[Path]) -> None:
        self.state = state
        self.root = state.fs_root
        self.code_roots = [Path(os.path.normpath(str(p))) for p in code_roots]
        self.cwd = "/"
        self._open_files: weakref.WeakSet[IO[Any]] = weakref.WeakSet()

    # -- paths -------------------------------------------------------------------------

    def _text(self, path: object) -> str:
        raw = os.fspath(path)  # type: ignore[call-overload]
        text = raw.decode() if isinstance(raw, bytes) else raw
        if not isinstance(text, str):
            raise TypeError(f"expected a path, got {type(path).__name__}")
        if not text:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", text)
        return text

    def virtual(self, path: object) -> str:
        """The normalised absolute board path of ``path``."""
        text = self._text(path)
        joined = text if text.startswith("/") else posixpath.join(self.cwd, text)
        norm = posixpath.normpath(joined)
        return "/" + norm.lstrip("/")

    def resolve(self, path: object) -> tuple[Path, bool, str]:
        """``(host path, writable, board path)`` for a firmware path."""
        text = self._text(path)
        if text.startswith("/") and self.code_roots:
            host = Path(os.path.normpath(text))
            for root in self.code_roots:
                if host == root or root in host.parents:
                    return host, False, text
        vpath = self.virtual(text)
        rel = vpath.lstrip("/")
        return (self.root / rel if rel else self.root), True, vpath

    def _writable(self, path: object) -> tuple[Path, str]:
        host, writable, vpath = self.resolve(path)
        if not writable:
            raise PermissionError(errno.EROFS, "Read-only file system", vpath)
        return host, vpath

    # -- open --------------------------------------------------------------------------

    def open(
        self,
        file: Any,
        mode: str = "r",
        buffering: int = -1,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
        closefd: bool = True,
        opener: Any = None,
    ) -> IO[Any]:
        """``open`` for firmware: board paths in the state folder (see module docstring)."""
        if isinstance(file, int):
            raise PermissionError(errno.EPERM, "file descriptors are not available to firmware")
        host, writable, vpath = self.resolve(file)
        if not writable and _WRITE_MODES & set(mode):
            raise PermissionError(errno.EROFS, "Read-only file system", vpath)
        try:
            handle: IO[Any] = open(host, mode, buffering, encoding, errors, newline)
        except OSError as exc:
            raise _rename(exc, vpath) from None
        self._open_files.add(handle)
        return handle

    def close_all(self) -> None:
        """Close the files the firmware left open (at stop / reboot)."""
        for handle in sorted(self._open_files, key=id):
            try:
                handle.close()
            except Exception:  # noqa: BLE001 - best effort, like a board losing power
                pass

    # -- os functions ----------------------------------------------------------------------

    def getcwd(self) -> str:
        return self.cwd

    def chdir(self, path: object) -> None:
        host, _ = self._writable(path)
        if not host.is_dir():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", self.virtual(path))
        self.cwd = self.virtual(path)

    def listdir(self, path: object = ".") -> list[str]:
        host, _, vpath = self.resolve(path)
        try:
            return sorted(os.listdir(host))
        except OSError as exc:
            raise _rename(exc, vpath) from None

    def ilistdir(self, path: object = ".") -> Iterator[tuple[str, int, int, int]]:
        """MicroPython's ``(name, type, inode, size)`` entries, sorted by name."""
        host, _, _ = self.resolve(path)
        for name in self.listdir(path):
            real = os.stat(host / name)
            if _stat.S_ISDIR(real.st_mode):
                yield name, _DIR_MODE, 0, 0
            else:
                yield name, _FILE_MODE, 0, real.st_size

    def stat(self, path: object) -> os.stat_result:
        host, _, vpath = self.resolve(path)
        try:
            real = os.stat(host)
        except OSError as exc:
            raise _rename(exc, vpath) from None
        if _stat.S_ISDIR(real.st_mode):
            return os.stat_result((_DIR_MODE, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        return os.stat_result((_FILE_MODE, 0, 0, 0, 0, 0, real.st_size, 0, 0, 0))

    def statvfs(self, path: object = "/") -> tuple[int, ...]:
        used = sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())
        blocks = 1024
        free = max(0, blocks - (used + 4095) // 4096)
        return (4096, 4096, blocks, free, free, 0, 0, 0, 0, 255)

    def mkdir(self, path: object, mode: int = 0o777) -> None:
        host, vpath = self._writable(path)
        try:
            os.mkdir(host)
        except OSError as exc:
            raise _rename(exc, vpath) from None

    def makedirs(self, path: object, mode: int = 0o777, exist_ok: bool = False) -> None:
        host, vpath = self._writable(path)
        try:
            os.makedirs(host, exist_ok=exist_ok)
        except OSError as exc:
            raise _rename(exc, vpath) from None

    def rmdir(self, path: object) -> None:
        host, vpath = self._writable(path)
        if host == self.root:
            raise PermissionError(errno.EPERM, "Operation not permitted", vpath)
        try:
            os.rmdir(host)
        except OSError as exc:
            raise _rename(exc, vpath) from None

    def remove(self, path: object) -> None:
        host, vpath = self._writable(path)
        try:
            os.remove(host)
        except OSError as exc:
            raise _rename(exc, vpath) from None

    def rename(self, old: object, new: object) -> None:
        src, vsrc = self._writable(old)
        dst, _ = self._writable(new)
        try:
            os.replace(src, dst)
        except OSError as exc:
            raise _rename(exc, vsrc) from None

    def exists(self, path: object) -> bool:
        try:
            return self.resolve(path)[0].exists()
        except (OSError, TypeError):
            return False

    def isfile(self, path: object) -> bool:
        try:
            return self.resolve(path)[0].is_file()
        except (OSError, TypeError):
            return False

    def isdir(self, path: object) -> bool:
        try:
            return self.resolve(path)[0].is_dir()
        except (OSError, TypeError):
            return False

    def getsize(self, path: object) -> int:
        return int(self.stat(path)[6])


def _rename(exc: OSError, vpath: str) -> OSError:
    """The same error, naming the firmware's path instead of the host's."""
    if exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, vpath)


_PURE_OS = (
    "SEEK_SET", "SEEK_CUR", "SEEK_END", "fspath", "fsencode", "fsdecode", "PathLike", "strerror",
)


def make_os_module(fs: NodeFS, rng: _random.Random, node_name: str, name: str = "os") -> ModuleType:
    """An ``os``/``uos`` stand-in bound to ``fs`` (file functions) and ``rng`` (``urandom``)."""
    mod = ModuleType(name, "os stand-in: the board's filesystem in the node's state folder")
    path_mod = ModuleType(f"{name}.path", "os.path stand-in")
    for attr in ("join", "split", "splitext", "basename", "dirname", "normpath", "isabs", "commonprefix"):
        setattr(path_mod, attr, getattr(posixpath, attr))
    path_mod.sep = "/"  # type: ignore[attr-defined]
    path_mod.exists = fs.exists  # type: ignore[attr-defined]
    path_mod.isfile = fs.isfile  # type: ignore[attr-defined]
    path_mod.isdir = fs.isdir  # type: ignore[attr-defined]
    path_mod.getsize = fs.getsize  # type: ignore[attr-defined]
    path_mod.abspath = fs.virtual  # type: ignore[attr-defined]
    values: dict[str, Any] = {
        "path": path_mod,
        "sep": "/",
        "curdir": ".",
        "pardir": "..",
        "extsep": ".",
        "linesep": "\n",
        "name": "posix",
        "environ": {},
        "error": OSError,
        "getcwd": fs.getcwd,
        "chdir": fs.chdir,
        "listdir": fs.listdir,
        "ilistdir": fs.ilistdir,
        "stat": fs.stat,
        "statvfs": fs.statvfs,
        "mkdir": fs.mkdir,
        "makedirs": fs.makedirs,
        "rmdir": fs.rmdir,
        "remove": fs.remove,
        "unlink": fs.remove,
        "rename": fs.rename,
        "replace": fs.rename,
        "sync": lambda: None,
        "getenv": lambda key, default=None: default,
        "urandom": lambda n: rng.randbytes(n),
        "uname": lambda: uname_result("blesim", node_name, "1.0", "blesim simulated board", "blesim"),
    }
    for attr in _PURE_OS:
        values[attr] = getattr(os, attr)
    for key, value in values.items():
        setattr(mod, key, value)
    return mod


def make_random_module(rng: _random.Random, name: str = "random") -> ModuleType:
    """A ``random``/``urandom`` stand-in drawing from the node's seeded stream."""
    mod = ModuleType(name, "random stand-in: the node's seeded stream")

    def seed(a: Any = None) -> None:
        # ``seed()`` / ``seed(None)`` would read OS entropy; derive from the stream instead.
        rng.seed(rng.getrandbits(64) if a is None else a)

    class Random(_random.Random):
        """``random.Random`` whose default seed comes from the node's stream."""

        def __init__(self, x: Any = None) -> None:
            super().__init__(rng.getrandbits(64) if x is None else x)

    for attr in (
        "random", "randint", "randrange", "getrandbits", "choice", "choices", "uniform",
        "shuffle", "sample", "gauss", "normalvariate", "randbytes", "triangular",
        "expovariate", "getstate", "setstate",
    ):
        setattr(mod, attr, getattr(rng, attr))
    mod.seed = seed  # type: ignore[attr-defined]
    mod.Random = Random  # type: ignore[attr-defined]
    return mod
