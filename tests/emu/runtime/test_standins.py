"""The firmware's filesystem (``open``/``os``) in the state folder, and ``random``."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pytest

from emu.runtime import (
    NodeConsole,
    NodeFS,
    StateFolder,
    make_os_module,
    make_random_module,
)


@pytest.fixture
def fs(tmp_path: Path) -> NodeFS:
    code = tmp_path / "code"
    code.mkdir()
    (code / "data.txt").write_text("library data")
    return NodeFS(StateFolder(tmp_path / "state"), [code])


def test_board_paths_live_under_the_state_folder(fs: NodeFS, tmp_path: Path) -> None:
    with fs.open("a.txt", "w") as f:
        f.write("relative")
    fs.mkdir("/usr")
    with fs.open("/usr/cfg.json", "wb") as f:
        f.write(b"{}")
    root = tmp_path / "state" / "fs"
    assert (root / "a.txt").read_text() == "relative"
    assert (root / "usr" / "cfg.json").read_bytes() == b"{}"
    fs.chdir("/usr")
    assert fs.getcwd() == "/usr"
    assert fs.open("cfg.json").read() == "{}"
    assert fs.open("../a.txt").read() == "relative"


def test_dot_dot_never_leaves_the_state_folder(fs: NodeFS, tmp_path: Path) -> None:
    with fs.open("../../../../escape.txt", "w") as f:
        f.write("x")
    assert (tmp_path / "state" / "fs" / "escape.txt").exists()
    assert not (tmp_path / "escape.txt").exists()
    host, writable, vpath = fs.resolve("/../../etc/passwd")
    assert vpath == "/etc/passwd" and writable
    assert host == tmp_path / "state" / "fs" / "etc" / "passwd"


def test_code_roots_are_read_only(fs: NodeFS, tmp_path: Path) -> None:
    lib_file = str(tmp_path / "code" / "data.txt")
    assert fs.open(lib_file).read() == "library data"
    with pytest.raises(PermissionError):
        fs.open(lib_file, "a")
    with pytest.raises(PermissionError):
        fs.remove(lib_file)


def test_errors_name_the_board_path_not_the_host_path(fs: NodeFS) -> None:
    with pytest.raises(FileNotFoundError) as info:
        fs.open("/flash/missing.txt")
    assert info.value.filename == "/flash/missing.txt"
    assert str(info.value) == "[Errno 2] No such file or directory: '/flash/missing.txt'"
    with pytest.raises(FileNotFoundError):
        fs.open("")
    with pytest.raises(PermissionError):
        fs.open(3)


def test_os_stand_in_file_functions(fs: NodeFS) -> None:
    mod = make_os_module(fs, random.Random(1), "node-1")
    for name in ("b.txt", "a.txt"):
        with fs.open(name, "w") as f:
            f.write("12345")
    mod.mkdir("/dir")
    assert mod.listdir() == ["a.txt", "b.txt", "dir"]
    assert list(mod.ilistdir("/")) == [
        ("a.txt", 0x8000, 0, 5),
        ("b.txt", 0x8000, 0, 5),
        ("dir", 0x4000, 0, 0),
    ]
    st = mod.stat("a.txt")
    assert tuple(st) == (0x8000, 0, 0, 0, 0, 0, 5, 0, 0, 0) and st.st_size == 5
    assert stat.S_ISDIR(mod.stat("/dir").st_mode)
    mod.rename("a.txt", "/dir/c.txt")
    assert mod.listdir("/dir") == ["c.txt"]
    assert mod.path.exists("/dir/c.txt") and mod.path.isdir("/dir")
    assert not mod.path.isfile("/dir") and mod.path.getsize("/dir/c.txt") == 5
    mod.remove("/dir/c.txt")
    mod.rmdir("/dir")
    assert mod.listdir("/") == ["b.txt"]
    with pytest.raises(OSError):
        mod.rmdir("/")
    with pytest.raises(FileNotFoundError):
        mod.remove("nothing")
    assert mod.uname().nodename == "node-1"
    assert mod.statvfs("/")[0] == 4096
    assert mod.getenv("HOME") is None and mod.sep == "/"
    assert not hasattr(mod, "system")


def test_urandom_and_random_come_from_the_node_stream(fs: NodeFS) -> None:
    mod = make_os_module(fs, random.Random(5), "n")
    assert mod.urandom(8) == random.Random(5).randbytes(8)
    rnd = make_random_module(random.Random(9))
    ref = random.Random(9)
    assert [rnd.randint(0, 1000) for _ in range(5)] == [ref.randint(0, 1000) for _ in range(5)]
    # seed() without argument must not read OS entropy: two identical streams stay identical
    r1, r2 = make_random_module(random.Random(4)), make_random_module(random.Random(4))
    r1.seed()
    r2.seed()
    assert r1.random() == r2.random()
    assert r1.Random().random() == r2.Random().random()
    r1.seed(3)
    assert r1.random() == random.Random(3).random()


def test_close_all_closes_files_left_open(fs: NodeFS) -> None:
    handle = fs.open("left.txt", "w")
    handle.write("data")
    fs.close_all()
    assert handle.closed
    assert fs.open("left.txt").read() == "data"
    assert os.path.basename(str(fs.root)) == "fs"


def test_node_console_writes_to_the_output() -> None:
    out: list[str] = []
    console = NodeConsole(out.append)
    assert console.write("abc") == 3 and console.writable()
    print("x", file=console)
    assert out == ["abc", "x", "\n"]
