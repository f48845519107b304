"""``blesim controller`` and ``blesim run`` with real HCI: what is missing is said precisely
(exit 2, one ``error:`` line), and a live session serves a controller to a TCP host."""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from emu.cli import cli
from emu.cli_controller import serve
from linklayer.hci.h4 import H4Parser

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def dongle_scenario(tmp_path: Path, controller: str) -> Path:
    path = tmp_path / "dongle.yaml"
    path.write_text(f"""name: dongle
duration: 5s
nodes:
  - name: dongle
    personality: micropython
    firmware: {SCENARIOS}/firmware/micropython_uart_peripheral.py
    lib: [{SCENARIOS}/lib/micropython]
    controller: {controller}
""", encoding="utf-8")
    return path


def test_run_without_the_usb_dongle_says_what_is_missing(tmp_path: Path) -> None:
    path = dongle_scenario(tmp_path, "usb:ffff:fffe")
    code, out, err = invoke("run", "--quiet", str(path))
    assert code == 2
    line = one_error_line(err)
    assert line.startswith(f"error: {path}: node 'dongle', controller usb:ffff:fffe: ")
    assert re.search(r"no libusb-1\.0 library was found|no USB devices are visible to this process"
                     r"|no ffff:fffe is plugged in", line), line


def test_run_without_a_serial_board_says_what_is_missing(tmp_path: Path) -> None:
    path = dongle_scenario(tmp_path, "serial:/dev/blesim-none,1000000,rtscts")
    code, out, err = invoke("run", "--quiet", str(path))
    assert code == 2
    assert one_error_line(err) == (f"error: {path}: node 'dongle', controller serial:/dev/blesim-none,1000000,rtscts: "
                                   "/dev/blesim-none does not exist (is the board plugged in?)")


def test_run_with_an_unknown_transport_is_bad_input(tmp_path: Path) -> None:
    path = dongle_scenario(tmp_path, "bluetooth:0")
    code, out, err = invoke("run", "--quiet", str(path))
    assert code == 2
    assert "unknown transport 'bluetooth:0': expected one of usb:N" in one_error_line(err)


@pytest.mark.skipif(os.path.exists("/dev/vhci"), reason="this machine has /dev/vhci")
def test_controller_without_vhci_says_how_to_get_it() -> None:
    code, out, err = invoke("controller", "--transport", "vhci")
    assert code == 2
    assert one_error_line(err) == (
        "error: node 'hci0', transport vhci: /dev/vhci does not exist: this kernel offers no virtual HCI "
        "(load it with: sudo modprobe hci_vhci; containers need the device passed in)")


@pytest.mark.parametrize("transport", ["usb:0", "hci-socket:0"])
def test_controller_refuses_transports_that_reach_real_controllers(transport: str) -> None:
    code, out, err = invoke("controller", "--transport", transport)
    assert code == 2
    assert f"it cannot serve a simulated controller to an outside host" in one_error_line(err)


def test_controller_with_nothing_to_serve() -> None:
    code, out, err = invoke("controller")
    assert code == 2
    assert one_error_line(err) == "error: nothing to serve: give --transport, or a scenario with an hci node"


def test_controller_serves_until_the_outside_host_leaves(tmp_path: Path) -> None:
    lines: list[str] = []
    ports: queue.Queue[int] = queue.Queue()

    def echo(line: str) -> None:
        lines.append(line)
        m = re.match(r"hci0: simulated controller (\S+) served on tcp-server:127\.0\.0\.1:(\d+)$", line)
        if m:
            ports.put(int(m.group(2)))

    answers: list[bytes] = []

    def outside_host() -> None:
        sock = socket.create_connection(("127.0.0.1", ports.get(timeout=10)), timeout=10)
        parser = H4Parser()
        for command in ("01030c00", "01091000"):  # HCI_Reset, HCI_Read_BD_ADDR
            sock.sendall(bytes.fromhex(command))
            packets: list[tuple[int, bytes]] = []
            while not packets:
                data = sock.recv(4096)
                assert data
                packets = parser.feed(data)
            answers.append(packets[0][1])
        sock.close()

    client = threading.Thread(target=outside_host, daemon=True)
    client.start()
    summary = tmp_path / "summary.json"
    code = serve(None, ["tcp-server:127.0.0.1:0"], duration="60s", btsnoop=tmp_path / "hci", json_path=summary,
                 echo=echo)
    client.join(10)
    assert code == 0
    assert answers[0] == bytes.fromhex("0e0401030c00")
    bd_addr = answers[1][6:12][::-1].hex(":").upper()
    assert any(line.startswith(f"hci0: simulated controller {bd_addr} served on") for line in lines)
    assert "every outside host has gone: stopping" in lines
    assert any(line.startswith("this run was paced to real time") for line in lines)
    data = json.loads(summary.read_text())
    assert data["paced"]["real_time"] is True
    assert data["nodes"]["hci0"]["personality"] == "hci"
    assert data["nodes"]["hci0"]["firmware_status"] == "host gone"
    assert (tmp_path / "hci" / "hci0.btsnoop").stat().st_size > 16
