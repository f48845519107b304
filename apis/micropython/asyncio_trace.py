"""MicroPython-style exception reports (``sys.print_exception``) for firmware errors.

Theory of operation
-------------------
MicroPython prints an uncaught exception as::

    Traceback (most recent call last):
      File "main.py", line 12, in handler
    OSError: [Errno 19] ENODEV

with no source lines, and ``OSError(errno)`` named by its errno symbol. The asyncio
stand-in uses this for "Task exception wasn't retrieved" and the multitest harness for an
instance whose code raised (the real harness collects that text as the instance's output).
Only frames of firmware code are listed: frames of blesim itself (``apis``, ``emu``,
``host`` ...) and of CPython's standard library are left out, as MicroPython's C
implementation has no frames to show. ``rename`` maps a firmware file to the name the
report uses, with a line offset (the multitest harness reports the test as ``<stdin>``).
"""

from __future__ import annotations

import errno as _errno
import os
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path

__all__ = ["Rename", "exception_line", "format_exception", "is_firmware_file"]

#: ``rename(filename) -> (shown name, line offset)`` or None to keep the file's base name.
Rename = Callable[[str], "tuple[str, int] | None"]

_BLESIM_ROOT = str(Path(__file__).resolve().parents[2]) + os.sep
_BLESIM_PACKAGES = tuple(
    _BLESIM_ROOT + name + os.sep for name in ("apis", "emu", "host", "linklayer", "phy")
)
_STDLIB = tuple(
    {p for p in (sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")) if p}
)


def is_firmware_file(filename: str) -> bool:
    """Whether a traceback frame in ``filename`` belongs to firmware (not blesim/CPython)."""
    if filename.startswith("<"):
        return filename != "<frozen>" and not filename.startswith("<frozen ")
    if filename.startswith(_BLESIM_PACKAGES):
        return False
    if any(filename.startswith(root) for root in _STDLIB):
        return "site-packages" in filename
    return True


def exception_line(exc: BaseException) -> str:
    """The last line of the report: ``ValueError: boom``, ``OSError: [Errno 19] ENODEV``."""
    name = type(exc).__name__
    args = exc.args
    if isinstance(exc, OSError) and len(args) == 1 and isinstance(args[0], int):
        code = args[0]
        return f"{name}: [Errno {code}] {_errno.errorcode.get(code, str(code))}"
    if not args:
        return name
    if len(args) == 1:
        text = str(args[0])
        return f"{name}: {text}" if text else name
    return f"{name}: {args!r}"


def format_exception(exc: BaseException, rename: Rename | None = None) -> str:
    """The MicroPython report of ``exc`` (chained exceptions are not shown, as on boards)."""
    lines = ["Traceback (most recent call last):"]
    for frame in traceback.extract_tb(exc.__traceback__):
        filename = frame.filename
        if not is_firmware_file(filename):
            continue
        mapped = rename(filename) if rename is not None else None
        shown, offset = mapped if mapped is not None else (os.path.basename(filename), 0)
        lineno = (frame.lineno or 0) + offset
        lines.append(f'  File "{shown}", line {lineno}, in {frame.name}')
    lines.append(exception_line(exc))
    return "\n".join(lines) + "\n"
