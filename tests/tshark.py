"""tshark as an independent decoder for tests.

Theory of operation
-------------------
Every helper runs ``tshark -r FILE`` in a subprocess with a timeout and a throw-away
``HOME`` (so no user profile or preference changes what it decodes), never with global
``-o`` preferences, and returns plain Python data:

* :func:`tshark_fields` — one list of strings per displayed packet (``-T fields``);
  a field that occurs several times in a packet is joined with ``,``.
* :func:`tshark_expert_items` / :func:`tshark_expert` — Wireshark's expert items
  (``_ws.expert``) per packet, and their counts by severity, plus the number of
  malformed packets (``_ws.malformed``).
* :func:`assert_clean_capture` — the file opens, has no malformed packet, no expert
  warning or error, and no "Incorrect CRC".

Tests that need tshark call ``pytest.skip`` only when :func:`tshark_available` is false
(CI installs it); :func:`require_tshark` does that.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = [
    "ExpertItem",
    "TsharkError",
    "assert_clean_capture",
    "require_tshark",
    "run_tshark",
    "tshark_available",
    "tshark_expert",
    "tshark_expert_items",
    "tshark_fields",
]

DEFAULT_TIMEOUT_S = 60.0

#: ``_ws.expert.severity`` values (epan/proto.h PI_COMMENT .. PI_ERROR).
SEVERITIES: dict[int, str] = {
    0x00100000: "comment",
    0x00200000: "chat",
    0x00400000: "note",
    0x00600000: "warning",
    0x00800000: "error",
}

# A character that never occurs in an expert message, to join repeated field values.
_AGGREGATOR = "\x1f"


class TsharkError(RuntimeError):
    """tshark could not read the file (or is missing)."""


@dataclasses.dataclass(frozen=True)
class ExpertItem:
    """One expert item of one packet."""

    frame: int
    severity: str
    message: str


@functools.cache
def _tshark_path() -> str | None:
    return shutil.which("tshark")


def tshark_available() -> bool:
    """Whether a ``tshark`` executable is on the PATH."""
    return _tshark_path() is not None


def require_tshark() -> None:
    """``pytest.skip`` the calling test when tshark is absent."""
    if not tshark_available():
        import pytest

        pytest.skip("tshark is not installed")


def run_tshark(
    args: list[str], *, check: bool = True, timeout: float = DEFAULT_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run tshark with ``args`` in a clean environment and return the completed process.

    With ``check`` (the default) a non-zero exit status raises :class:`TsharkError`
    carrying tshark's stderr.
    """
    exe = _tshark_path()
    if exe is None:
        raise TsharkError("tshark is not installed")
    with tempfile.TemporaryDirectory(prefix="tshark-home-") as home:
        env = dict(os.environ)
        env["HOME"] = home
        env["XDG_CONFIG_HOME"] = os.path.join(home, ".config")
        env.pop("WIRESHARK_CONFIG_DIR", None)
        env["LC_ALL"] = "C.UTF-8"
        proc = subprocess.run(
            [exe, *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if check and proc.returncode != 0:
        raise TsharkError(
            f"tshark {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}"
        )
    return proc


def _lines(stdout: str) -> list[str]:
    if not stdout:
        return []
    if stdout.endswith("\n"):
        stdout = stdout[:-1]
    return stdout.split("\n")


def tshark_fields(
    path: str | os.PathLike[str],
    fields: list[str],
    display_filter: str | None = None,
    *,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[list[str]]:
    """One row per packet (matching ``display_filter``), one string per field.

    A missing field is ``""``; repeated occurrences are joined with ``","``.
    """
    if not fields:
        raise ValueError("at least one field is needed")
    args = ["-r", os.fspath(path), "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", "aggregator=,", "-E", "quote=n"]
    for field in fields:
        args += ["-e", field]
    if display_filter is not None:
        args += ["-Y", display_filter]
    proc = run_tshark(args, check=check, timeout=timeout)
    rows = [line.split("\t") for line in _lines(proc.stdout)]
    for row in rows:
        if len(row) != len(fields):
            raise TsharkError(f"unexpected tshark output row {row!r} for fields {fields!r}")
    return rows


def _expert_rows(path: str | os.PathLike[str], timeout: float) -> list[list[str]]:
    args = ["-r", os.fspath(path), "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
            "-E", f"aggregator={_AGGREGATOR}", "-E", "quote=n",
            "-e", "frame.number", "-e", "_ws.expert.severity", "-e", "_ws.expert.message",
            "-e", "_ws.malformed", "-e", "btle.crc.incorrect"]
    proc = run_tshark(args, timeout=timeout)
    return [line.split("\t") for line in _lines(proc.stdout)]


def _items_from_rows(rows: list[list[str]]) -> list[ExpertItem]:
    items: list[ExpertItem] = []
    for row in rows:
        frame, severities, messages = int(row[0]), row[1], row[2]
        if not severities:
            continue
        sev_list = severities.split(_AGGREGATOR)
        msg_list = messages.split(_AGGREGATOR)
        if len(msg_list) != len(sev_list):
            msg_list = [messages] * len(sev_list)
        for sev, msg in zip(sev_list, msg_list):
            items.append(ExpertItem(frame, SEVERITIES.get(int(sev, 0), f"unknown({sev})"), msg))
    return items


def tshark_expert_items(
    path: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT_S
) -> list[ExpertItem]:
    """Every expert item tshark raises while dissecting the file, in frame order."""
    return _items_from_rows(_expert_rows(path, timeout))


def tshark_expert(
    path: str | os.PathLike[str], *, timeout: float = DEFAULT_TIMEOUT_S
) -> dict[str, int]:
    """Expert items counted by severity.

    Keys: ``"error"``, ``"warning"``, ``"note"``, ``"chat"``, ``"comment"`` (always
    present), and ``"malformed"``: the number of packets Wireshark found malformed.
    """
    rows = _expert_rows(path, timeout)
    counts = {name: 0 for name in ("error", "warning", "note", "chat", "comment")}
    for item in _items_from_rows(rows):
        counts[item.severity] = counts.get(item.severity, 0) + 1
    counts["malformed"] = sum(1 for row in rows if row[3])
    return counts


def assert_clean_capture(
    path: str | os.PathLike[str],
    *,
    expected_packets: int | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Assert tshark reads the whole file with no malformed packet, no warning or error
    expert item and no "Incorrect CRC" (notes and chats are allowed)."""
    if not Path(path).is_file():
        raise AssertionError(f"{path} does not exist")
    rows = _expert_rows(path, timeout)
    items = _items_from_rows(rows)
    problems = [f"frame {i.frame}: {i.severity}: {i.message}" for i in items
                if i.severity in ("warning", "error") or "Incorrect CRC" in i.message]
    problems += [f"frame {row[0]}: malformed" for row in rows if row[3]]
    problems += [f"frame {row[0]}: Incorrect CRC" for row in rows if row[4]]
    if problems:
        raise AssertionError(f"tshark found problems in {path}:\n" + "\n".join(problems))
    if expected_packets is not None and len(rows) != expected_packets:
        raise AssertionError(
            f"tshark read {len(rows)} packets from {path}, expected {expected_packets}"
        )
