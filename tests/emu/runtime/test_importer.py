"""Per-node module namespaces: helpers, libs, stand-ins, per-node packages, stdlib."""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from emu.kernel import Kernel
from emu.runtime import NodeRuntime
from tests.emu.runtime.helpers import STANDINS, Errors, importer_of, write

MakeNode = Callable[..., NodeRuntime]

HELPER = """
count = 0

def bump():
    global count
    count += 1
    return count
"""


def test_two_nodes_have_independent_helper_modules(tmp_path: Path, kernel: Kernel, make_node: MakeNode) -> None:
    nodes = []
    for name in ("a", "b"):
        folder = tmp_path / name
        write(folder / "helper.py", HELPER)
        write(folder / "other.py", "import helper\n\ndef bump_from_other():\n    return helper.bump()\n")
        fw = write(
            folder / "main.py",
            """
            import helper
            import helper as again
            import other
            assert helper is again
            helper.bump()
            other.bump_from_other()
            print("count", helper.count)
            """,
        )
        nodes.append(make_node(name, fw))
    nodes[0].boot()
    nodes[0].reboot()  # a reboot does not leak state into the next boot either
    nodes[1].boot()
    kernel.run()
    assert [line for _, line in nodes[0].output_lines] == ["count 2", "count 2"]
    assert [line for _, line in nodes[1].output_lines] == ["count 2"]
    assert "helper" not in sys.modules and "other" not in sys.modules
    a_helper = importer_of(nodes[0]).modules["helper"]
    b_helper = importer_of(nodes[1]).modules["helper"]
    assert a_helper is not b_helper
    assert a_helper.__file__ == str(tmp_path / "a" / "helper.py")


def test_standard_library_modules_are_the_normal_ones(tmp_path: Path, make_node: MakeNode) -> None:
    fw = write(tmp_path / "fw" / "main.py", "import struct, json\nimport collections.abc\nfrom binascii import hexlify\n")
    node = make_node("n", fw)
    node.boot()
    g = importer_of(node).main_globals
    assert g["struct"] is struct and g["json"] is json
    assert g["collections"] is sys.modules["collections"]
    assert g["hexlify"] is sys.modules["binascii"].hexlify


def test_factories_are_called_once_per_node_per_boot(tmp_path: Path, kernel: Kernel, make_node: MakeNode) -> None:
    calls: list[str] = []

    def make_board(node: NodeRuntime) -> ModuleType:
        calls.append(node.name)
        mod = ModuleType("board")
        setattr(mod, "NAME", node.name)
        return mod

    shared = ModuleType("checkNet")
    write(tmp_path / "fw" / "lib_user.py", "import board\nNAME = board.NAME\n")
    fw = write(
        tmp_path / "fw" / "main.py",
        """
        import board
        import board as b2
        import lib_user
        import checkNet
        print(board.NAME, lib_user.NAME, board is b2, checkNet.__name__)
        """,
    )
    modules: dict[str, Any] = {"board": make_board, "checkNet": shared}
    a = make_node("a", fw, modules=modules)
    b = make_node("b", fw, modules=modules)
    a.boot()
    b.boot()
    assert calls == ["a", "b"]
    assert a.output_lines == [(0, "a a True checkNet")]
    assert b.output_lines == [(0, "b b True checkNet")]
    assert importer_of(b).modules["checkNet"] is shared
    b.reboot()
    assert calls == ["a", "b", "b"]


def test_lib_folders_packages_relative_imports_and_file_entries(tmp_path: Path, make_node: MakeNode) -> None:
    lib = tmp_path / "lib"
    write(lib / "mylib" / "__init__.py", "from .core import VALUE\nfrom . import util\n__all__ = ['VALUE', 'util']\n")
    write(lib / "mylib" / "core.py", "VALUE = 41\n")
    write(lib / "mylib" / "util.py", "from .core import VALUE\n\ndef plus_one():\n    return VALUE + 1\n")
    write(lib / "mylib" / "sub" / "__init__.py", "from ..core import VALUE as V\n")
    single = write(tmp_path / "extra" / "single.py", "WHO = 'single'\n")
    fw = write(
        tmp_path / "fw" / "main.py",
        """
        import mylib.sub
        from mylib import *
        from mylib.util import plus_one
        import single
        print(VALUE, util.plus_one(), plus_one(), mylib.sub.V, single.WHO)
        try:
            import mylib.missing
        except ImportError as exc:
            print(type(exc).__name__, exc.name)
        try:
            from mylib import nothing
        except ImportError as exc:
            print(type(exc).__name__)
        """,
    )
    node = make_node("n", fw, lib_paths=[lib, single])
    node.boot()
    assert [line for _, line in node.output_lines] == [
        "41 42 42 41 single",
        "ModuleNotFoundError mylib.missing",
        "ImportError",
    ]
    assert not any(name.startswith("mylib") for name in sys.modules)


def test_per_node_site_package_gets_this_nodes_personality_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_node: MakeNode
) -> None:
    site = tmp_path / "site"
    write(site / "fakeble_pkg" / "__init__.py", "import _bleio\nfrom .radio import Radio\n")
    write(
        site / "fakeble_pkg" / "radio.py",
        "import _bleio\ninstances = []\n\nclass Radio:\n    def __init__(self):\n"
        "        instances.append(self)\n        self.adapter = _bleio.adapter\n",
    )
    monkeypatch.syspath_prepend(str(site))

    def make_bleio(node: NodeRuntime) -> ModuleType:
        mod = ModuleType("_bleio")
        setattr(mod, "adapter", f"adapter of {node.name}")
        return mod

    fw = write(
        tmp_path / "fw" / "main.py",
        """
        import fakeble_pkg
        r = fakeble_pkg.Radio()
        print(r.adapter, len(fakeble_pkg.radio.instances))
        """,
    )
    modules = {**STANDINS, "_bleio": make_bleio}
    a = make_node("a", fw, modules=modules, per_node_packages={"fakeble_pkg"})
    b = make_node("b", fw, modules=modules, per_node_packages={"fakeble_pkg"})
    a.boot()
    b.boot()
    assert a.output_lines == [(0, "adapter of a 1")]
    assert b.output_lines == [(0, "adapter of b 1")]
    assert "fakeble_pkg" not in sys.modules and "_bleio" not in sys.modules


def test_os_and_random_stand_ins_are_per_node(tmp_path: Path, make_node: MakeNode) -> None:
    fw = write(
        tmp_path / "fw" / "main.py",
        """
        import os, uos, os.path, random, urandom
        print(os is uos, random is urandom, os.path.join("a", "b"), os.getcwd())
        """,
    )
    node = make_node("n", fw)
    node.boot()
    assert node.output_lines == [(0, "True True a/b /")]
    assert importer_of(node).modules["os"] is not sys.modules["os"]


def test_relative_import_in_main_is_an_import_error(tmp_path: Path, errors: Errors, make_node: MakeNode) -> None:
    fw = write(tmp_path / "fw" / "main.py", "from . import helper\n")
    node = make_node("n", fw)
    node.boot()
    assert len(errors.calls) == 1
    assert "attempted relative import" in errors.calls[0][3]


def test_print_goes_to_the_node_output_and_files_stay_files(tmp_path: Path, make_node: MakeNode) -> None:
    fw = write(
        tmp_path / "fw" / "main.py",
        """
        import io, sys
        print("a", 1, sep="-", end="")
        print(" b")
        print("err", file=sys.stderr)
        buf = io.StringIO()
        print("to buffer", file=buf)
        print(buf.getvalue().strip(), None, sep=None, end=None)
        """,
    )
    node = make_node("n", fw)
    node.boot()
    assert [line for _, line in node.output_lines] == ["a-1 b", "err", "to buffer None"]
    assert node.output_text == "a-1 b\nerr\nto buffer None\n"


def test_main_globals_look_like_a_script(tmp_path: Path, make_node: MakeNode) -> None:
    fw = write(tmp_path / "fw" / "main.py", "print(__name__, __file__ == FILE)\n")
    node = make_node("n", fw, extra_builtins={"FILE": str(fw)})
    node.boot()
    assert node.output_lines == [(0, "__main__ True")]
