"""Per-node module namespaces without touching ``sys.modules``.

Theory of operation
-------------------
Firmware runs with ``exec(compile(source, real_filename, "exec"), globals)`` where
``globals["__builtins__"]`` is a per-node copy of the builtins. In that copy:

* ``__import__`` is :meth:`NodeImporter.import_`, so every ``import`` statement of the
  firmware, and of every module loaded for the node, comes here;
* ``open`` is the node's filesystem (:class:`~emu.runtime.standins.NodeFS`): board paths
  live in the node's state folder;
* ``print`` writes to the node's output (``NodeRuntime.output``).

An import is served, by the top-level name, from the first of:

1. the node's module table — modules already loaded for this node (this boot);
2. *sources*: stand-in modules given as module objects (shared) or factories called
   with the node runtime once per boot (personality modules such as ``bluetooth``,
   ``time``, ``_thread``; the runtime's own ``os``/``uos`` and ``random``/``urandom``
   unless the personality replaces them);
3. the node's paths — the firmware's folder, then its ``lib`` entries (folders, or
   single ``.py`` files): ``name/__init__.py`` or ``name.py``;
4. packages declared per node (``adafruit_ble``): found in ``sys.path`` without being
   imported, then loaded from source like 3;
5. anything else — the normal import system (``struct``, ``json``, ``collections`` ...).

Modules of 3 and 4 are executed with the same per-node builtins and kept in the node's
table, so two nodes never share their state, and a library that imports a personality
module (``adafruit_ble`` imports ``_bleio``) gets this node's. Compiled code objects are
immutable and are cached process-wide by (path, mtime, size). Namespace packages (folders
without ``__init__.py``) and compiled extension modules are not loaded per node.
``importlib.import_module`` called by firmware goes to the normal import system.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.machinery
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from types import CodeType, ModuleType
from typing import TYPE_CHECKING, Any, Union

from emu.runtime.standins import NodeFS, make_os_module, make_random_module

if TYPE_CHECKING:
    from emu.runtime.node import NodeRuntime

__all__ = ["ModuleSource", "NodeImporter", "compile_file"]

#: A stand-in: a module object (shared by every node) or a factory called per node.
ModuleSource = Union[ModuleType, Callable[["NodeRuntime"], ModuleType]]

_REAL_IMPORT = builtins.__import__
_CODE_CACHE: dict[tuple[str, int, int], CodeType] = {}
_STD_STREAMS = tuple(s for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__) if s is not None)


def compile_file(path: Path) -> CodeType:
    """Compile a source file under its real name (tracebacks and ``linecache`` show it)."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    code = _CODE_CACHE.get(key)
    if code is None:
        code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        _CODE_CACHE[key] = code
    return code


_Found = tuple[Path, bool]  # (file to execute, is a package)


class NodeImporter:
    """One node's module namespace for one boot (see the module docstring)."""

    def __init__(
        self,
        node: NodeRuntime,
        modules: Mapping[str, ModuleSource],
        paths: Sequence[Path | str],
        *,
        per_node_packages: Collection[str] = (),
        extra_builtins: Mapping[str, object] | None = None,
    ) -> None:
        self.node = node
        self.paths = [Path(p).resolve() for p in paths]
        self.per_node_packages = frozenset(per_node_packages)
        self.sources: dict[str, ModuleSource] = {
            "os": lambda _node: make_os_module(self.fs, node.random, node.name, "os"),
            "uos": lambda _node: self.import_module("os"),
            "random": lambda _node: make_random_module(node.random, "random"),
            "urandom": lambda _node: self.import_module("random"),
        }
        self.sources.update(modules)
        self._source_tops = {name.partition(".")[0] for name in self.sources}
        #: the node's module table (never ``sys.modules``)
        self.modules: dict[str, ModuleType] = {}
        self._not_per_node: set[str] = set()
        self._site: dict[str, _Found | None] = {}
        roots = list(self.paths)
        for name in sorted(self.per_node_packages):
            found = self._find_site(name)
            if found is not None:
                roots.append(found[0].parent if found[1] else found[0])
        self.fs = NodeFS(node.state, roots)
        self.builtins: dict[str, Any] = dict(builtins.__dict__)
        self.builtins["__import__"] = self.import_
        self.builtins["open"] = self.fs.open
        self.builtins["print"] = self.print
        self.builtins.update(extra_builtins or {})
        self.main_globals: dict[str, Any] = {}

    # -- running firmware ---------------------------------------------------------------

    def run_main(self, path: Path) -> None:
        """Execute the firmware file as ``__main__`` (in the calling firmware thread)."""
        code = compile_file(path)
        self.main_globals = {
            "__name__": "__main__",
            "__file__": str(path),
            "__builtins__": self.builtins,
            "__package__": None,
            "__spec__": None,
            "__loader__": None,
            "__doc__": None,
        }
        exec(code, self.main_globals)

    def print(
        self, *args: object, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
    ) -> None:
        """``print`` for firmware: to the node's output (files other than stdio as usual)."""
        if file is not None and not any(file is s for s in (sys.stdout, sys.stderr, *_STD_STREAMS)):
            builtins.print(*args, sep=sep, end=end, file=file, flush=flush)
            return
        text = (" " if sep is None else sep).join(str(a) for a in args)
        self.node.output(text + ("\n" if end is None else end))

    def close(self) -> None:
        """The firmware stopped: close the files it left open."""
        self.fs.close_all()

    # -- import -------------------------------------------------------------------------

    def import_module(self, name: str) -> ModuleType:
        """The module ``name`` as this node sees it (for personalities and tests)."""
        if self._is_per_node(name.partition(".")[0]):
            return self._import(name)
        return importlib.import_module(name)

    def import_(
        self,
        name: str,
        globals: Mapping[str, Any] | None = None,
        locals: Any = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> ModuleType:
        """The node's ``__import__``."""
        absname = self._resolve_relative(name, globals, level) if level > 0 else name
        if not absname:
            raise ValueError("Empty module name")
        top = absname.partition(".")[0]
        if not self._is_per_node(top):
            return _REAL_IMPORT(absname, None, None, fromlist or (), 0)
        module = self._import(absname)
        if fromlist:
            if hasattr(module, "__path__"):
                self._handle_fromlist(module, fromlist)
            return module
        if level == 0:
            return self.modules[top]
        if not name:
            return module
        cut = len(name) - len(name.partition(".")[0])
        return self.modules[absname[: len(absname) - cut]]

    @staticmethod
    def _resolve_relative(name: str, globals: Mapping[str, Any] | None, level: int) -> str:
        package = None if globals is None else globals.get("__package__")
        if package is None and globals is not None and "__name__" in globals:
            modname = str(globals["__name__"])
            package = modname if "__path__" in globals else modname.rpartition(".")[0]
        if not package:
            raise ImportError("attempted relative import with no known parent package")
        bits = str(package).rsplit(".", level - 1)
        if len(bits) < level:
            raise ImportError("attempted relative import beyond top-level package")
        return f"{bits[0]}.{name}" if name else bits[0]

    def _is_per_node(self, top: str) -> bool:
        if top in self.modules or top in self._source_tops:
            return True
        if top in self._not_per_node:
            return False
        if self._find_on_paths(top) is not None or (
            top in self.per_node_packages and self._find_site(top) is not None
        ):
            return True
        self._not_per_node.add(top)
        return False

    def _import(self, absname: str) -> ModuleType:
        module = self.modules.get(absname)
        if module is not None:
            return module
        parent_name, _, short = absname.rpartition(".")
        parent = self._import(parent_name) if parent_name else None
        module = self.modules.get(absname)  # the parent's __init__ may have loaded it
        if module is not None:
            return module
        if absname in self.sources:
            module = self._create(absname)
        elif parent is None:
            found = self._find_on_paths(absname)
            if found is None and absname in self.per_node_packages:
                found = self._find_site(absname)
            if found is None:
                raise ModuleNotFoundError(f"No module named {absname!r}", name=absname)
            return self._exec_source(absname, found, None, "")
        else:
            locations = getattr(parent, "__path__", None)
            found = None if locations is None else self._find_in([Path(p) for p in locations], short)
            if found is None:
                attr = getattr(parent, short, None)  # os.path and similar
                if isinstance(attr, ModuleType):
                    self.modules[absname] = attr
                    return attr
                why = "" if locations is not None else f"; {parent_name!r} is not a package"
                raise ModuleNotFoundError(f"No module named {absname!r}{why}", name=absname)
            return self._exec_source(absname, found, parent, short)
        if parent is not None:
            setattr(parent, short, module)
        return module

    def _create(self, absname: str) -> ModuleType:
        source = self.sources[absname]
        module = source if isinstance(source, ModuleType) else source(self.node)
        self.modules[absname] = module
        return module

    def _exec_source(self, fullname: str, found: _Found, parent: ModuleType | None, short: str) -> ModuleType:
        path, is_package = found
        code = compile_file(path)
        module = ModuleType(fullname)
        spec = importlib.machinery.ModuleSpec(fullname, None, origin=str(path), is_package=is_package)
        spec.has_location = True
        module.__file__ = str(path)
        module.__spec__ = spec
        module.__loader__ = None
        if is_package:
            module.__path__ = [str(path.parent)]
            spec.submodule_search_locations = [str(path.parent)]
            module.__package__ = fullname
        else:
            module.__package__ = fullname.rpartition(".")[0]
        module.__dict__["__builtins__"] = self.builtins
        self.modules[fullname] = module
        if parent is not None:
            setattr(parent, short, module)
        try:
            exec(code, module.__dict__)
        except BaseException:
            self.modules.pop(fullname, None)
            if parent is not None and getattr(parent, short, None) is module:
                delattr(parent, short)
            raise
        return self.modules.get(fullname, module)

    def _handle_fromlist(self, module: ModuleType, fromlist: Sequence[str]) -> None:
        for item in fromlist:
            if not isinstance(item, str):
                raise TypeError(f"Item in from list must be str, not {type(item).__name__}")
            if item == "*":
                names = getattr(module, "__all__", None)
                if names is not None:
                    self._handle_fromlist(module, [n for n in names if n != "*"])
            elif not hasattr(module, item):
                sub = f"{module.__name__}.{item}"
                try:
                    self._import(sub)
                except ModuleNotFoundError as exc:
                    if exc.name != sub:
                        raise

    # -- finding ------------------------------------------------------------------------

    @staticmethod
    def _find_in(locations: Sequence[Path], name: str) -> _Found | None:
        for location in locations:
            init = location / name / "__init__.py"
            if init.is_file():
                return init, True
            single = location / f"{name}.py"
            if single.is_file():
                return single, False
        return None

    def _find_on_paths(self, name: str) -> _Found | None:
        for entry in self.paths:
            if entry.suffix == ".py" and entry.is_file():
                if entry.stem == name:
                    return entry, False
                continue
            found = self._find_in([entry], name)
            if found is not None:
                return found
        return None

    def _find_site(self, name: str) -> _Found | None:
        """A per-node package's source in ``sys.path``, without importing it."""
        if name in self._site:
            return self._site[name]
        spec = importlib.machinery.PathFinder.find_spec(name)
        found: _Found | None = None
        if spec is not None:
            origin = spec.origin
            if origin is None or not origin.endswith(".py"):
                raise ImportError(f"{name!r} is declared per-node but is not pure-Python source ({origin})")
            found = (Path(origin), spec.submodule_search_locations is not None)
        self._site[name] = found
        return found
