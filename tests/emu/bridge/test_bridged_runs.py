"""Scenarios with a transport: an outside host or a real controller that goes away ends
its node with a clear message, the rest of the world runs on, captures stay valid."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from emu.run import RunError, RunOptions, Runner
from emu.scenario import loads_scenario
from linklayer.controller import Controller, ControllerConfig
from linklayer.hci.h4 import H4Parser, h4_frame
from phy.units import MS, S
from tests.tshark import assert_clean_capture, require_tshark, tshark_fields

HERE = Path(__file__).parent
SCENARIOS = HERE.parents[2] / "scenarios"


def scenario(extra_node: str, tmp_path: Path) -> str:
    return f"""
name: bridged
seed: 4
duration: 30s
nodes:
  - name: ticker
    personality: micropython
    firmware: {HERE}/firmware/micropython_ticker.py
    position: [0, 0]
{extra_node}
capture: {{air: {tmp_path}/air.pcap, hci: {tmp_path}/hci/}}
"""


def ticks_after(runner: Runner, t_ns: int) -> int:
    return sum(1 for o in runner.record.nodes["ticker"].output if o.t_ns > t_ns and o.text.startswith("tick"))


def read_event(sock: socket.socket, parser: H4Parser) -> tuple[int, bytes]:
    while True:
        data = sock.recv(4096)
        assert data, "the served controller closed the connection"
        packets = parser.feed(data)
        if packets:
            return packets[0]


def test_outside_host_leaving_ends_its_node_only(tmp_path: Path) -> None:
    require_tshark()
    node = """  - name: outside
    personality: hci
    transport: tcp-server:127.0.0.1:0
    position: [1, 0]"""
    lines: list[str] = []
    runner = Runner(loads_scenario(scenario(node, tmp_path)), RunOptions(echo=lines.append))
    assert runner.bridges is not None
    port = runner.bridges.bridges[0].transport.address[1]  # type: ignore[attr-defined]
    answers: list[tuple[int, bytes]] = []
    advertised = threading.Event()

    def outside_host() -> None:
        # A minimal outside host: reset, advertise (legacy, defaults), then leave.
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        parser = H4Parser()
        for command in ("030c00",  # HCI_Reset
                        "06200f" "a000" "a000" "00" "00" "00" "000000000000" "07" "00",  # ADV_IND every 100 ms
                        "0a200101"):  # LE_Set_Advertising_Enable
            sock.sendall(bytes.fromhex("01" + command))
            answers.append(read_event(sock, parser))
        advertised.wait(10)  # until its advertising is seen on the simulated air
        sock.close()

    client = threading.Thread(target=outside_host, daemon=True)
    client.start()
    try:
        runner.advance(runner.scenario.duration_ns, condition=lambda: runner.record.nodes["outside"].tx_packets >= 3)
        advertised.set()
        runner.advance(runner.scenario.duration_ns,
                       condition=lambda: runner.record.nodes["outside"].status == "host gone")
        lost_at = runner.kernel.now
        runner.advance(lost_at + 500 * MS)
    finally:
        runner.finish()
        client.join(5)
    assert [a[0] for a in answers] == [0x04, 0x04, 0x04]
    assert all(a[1][0] == 0x0E and a[1][5] == 0x00 for a in answers)  # three successes
    assert runner.record.nodes["outside"].status == "host gone"
    message = [line for line in lines if "outside host on tcp-server:127.0.0.1:0 gone" in line]
    assert message and "closed its TCP connection; its controller is off, the rest of the world continues" in message[0]
    assert ticks_after(runner, lost_at) >= 4  # the world ran on
    assert not runner.failed_firmware()
    summary = runner.summary(runner.results())
    assert summary["paced"]["real_time"] is True
    assert summary["nodes"]["outside"]["personality"] == "hci"
    (transport,) = summary["nodes"]["outside"]["transports"]
    assert transport["status"] == "lost" and transport["packets_in"] == 3
    # Captures: the outside host's commands are in its HCI capture, its advertising on air
    # (and none after it left), and both files decode cleanly.
    hci = tmp_path / "hci" / "outside.btsnoop"
    assert_clean_capture(hci)
    assert tshark_fields(hci, ["bthci_cmd.opcode"], "bthci_cmd")[:3] == [["0x0c03"], ["0x2006"], ["0x200a"]]
    air = tmp_path / "air.pcap"
    assert_clean_capture(air)
    outside_address = runner.record.nodes["outside"].address.lower()
    times = [float(t) for t, in tshark_fields(air, ["frame.time_relative"], f"btle.advertising_address == {outside_address}")]
    assert times, "the outside host's advertising is on the air capture"
    ends = [float(t) for t, in tshark_fields(air, ["frame.time_relative"])]
    assert max(times) <= lost_at / S + 0.01 < max(ends)


class SimulatedDongle:
    """Our simulated controller served on a TCP port by a plain thread (a stand-in dongle)."""

    def __init__(self) -> None:
        import random

        from linklayer.address import Address

        self.firmware = Controller(ControllerConfig(public_address=Address(bytes.fromhex("0f0e0d0c0b0a"))),
                                   random.Random(1))
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.conn: socket.socket | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.conn, _ = self.listener.accept()
        parser = H4Parser()
        while True:
            try:
                data = self.conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            for h4_type, packet in parser.feed(data):
                self.firmware.hci_from_host(h4_type, packet, 0)
                for kind, out in self.firmware.take_hci():
                    try:
                        self.conn.sendall(h4_frame(kind, out))
                    except OSError:  # unplugged meanwhile
                        return

    def unplug(self) -> None:
        assert self.conn is not None
        self.conn.shutdown(socket.SHUT_RDWR)
        self.conn.close()
        self.listener.close()


def test_a_lost_real_controller_ends_its_node_with_a_clear_message(tmp_path: Path) -> None:
    dongle = SimulatedDongle()
    node = f"""  - name: dongle
    personality: micropython
    firmware: {SCENARIOS}/firmware/micropython_uart_peripheral.py
    lib: [{SCENARIOS}/lib/micropython]
    controller: tcp-client:127.0.0.1:{dongle.port}
    position: [1, 0]"""
    lines: list[str] = []
    runner = Runner(loads_scenario(scenario(node, tmp_path)), RunOptions(echo=lines.append))
    dongle_record = runner.record.nodes["dongle"]
    try:
        runner.advance(runner.scenario.duration_ns,
                       condition=lambda: any(o.text == "uart ready" for o in dongle_record.output))
        # The firmware runs on the real controller: its address is the dongle's.
        assert dongle_record.address == "0A:0B:0C:0D:0E:0F"
        dongle.unplug()
        runner.advance(runner.scenario.duration_ns, condition=lambda: bool(dongle_record.failures))
        lost_at = runner.kernel.now
        runner.advance(lost_at + 500 * MS)
    finally:
        runner.finish()
    (failure,) = dongle_record.failures
    port = dongle.port
    assert failure.message == (f"ControllerLost: controller tcp-client:127.0.0.1:{port} lost: the other side "
                               f"closed the TCP connection to 127.0.0.1 port {port}")
    assert dongle_record.status == "failed"
    assert any(f"dongle: controller tcp-client:127.0.0.1:{port} lost" in line
               and "the node stops, the rest of the world continues" in line for line in lines)
    assert ticks_after(runner, lost_at) >= 4
    assert runner.failed_firmware()
    require_tshark()
    assert_clean_capture(tmp_path / "hci" / "dongle.btsnoop")
    assert_clean_capture(tmp_path / "air.pcap")


def test_missing_hardware_is_a_run_error(tmp_path: Path) -> None:
    node = """  - name: dongle
    personality: micropython
    firmware: firmware/micropython_uart_peripheral.py
    controller: serial:/dev/blesim-no-such-tty,1000000,rtscts"""
    with pytest.raises(RunError, match="node 'dongle', controller serial:/dev/blesim-no-such-tty,1000000,rtscts: "
                                       "/dev/blesim-no-such-tty does not exist"):
        Runner(loads_scenario(scenario(node, tmp_path).replace("firmware: firmware/", f"firmware: {SCENARIOS}/firmware/")))


def test_an_hci_node_relays_an_outside_host_to_a_real_controller(tmp_path: Path) -> None:
    dongle = SimulatedDongle()
    node = f"""  - name: relay
    personality: hci
    controller: tcp-client:127.0.0.1:{dongle.port}
    transport: tcp-server:127.0.0.1:0"""
    runner = Runner(loads_scenario(scenario(node, tmp_path)), RunOptions())
    assert runner.bridges is not None
    port = runner.bridges.of("relay")[1].transport.address[1]  # type: ignore[attr-defined]
    answers: list[tuple[int, bytes]] = []

    def outside_host() -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        parser = H4Parser()
        sock.sendall(bytes.fromhex("01091000"))  # HCI_Read_BD_ADDR, answered by the real controller
        answers.append(read_event(sock, parser))
        sock.close()

    client = threading.Thread(target=outside_host, daemon=True)
    client.start()
    try:
        runner.advance(runner.scenario.duration_ns, condition=lambda: bool(answers))
        runner.advance(runner.kernel.now + 50 * MS)
    finally:
        runner.finish()
        dongle.unplug()
    assert answers == [(0x04, bytes.fromhex("0e0a01091000" "0f0e0d0c0b0a"))]  # 0A:0B:0C:0D:0E:0F
    require_tshark()
    hci = tmp_path / "hci" / "relay.btsnoop"
    assert_clean_capture(hci)
    assert tshark_fields(hci, ["bthci_cmd.opcode"], "bthci_cmd") == [["0x1009"]]
