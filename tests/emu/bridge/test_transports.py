"""Transport specs: every documented form parses, prints back, and bad ones say why."""

from __future__ import annotations

import pytest

from emu.bridge.transports import (
    HciSocketSpec,
    PtySpec,
    SerialSpec,
    TcpClientSpec,
    TcpServerSpec,
    TransportSpecError,
    UsbSpec,
    VhciSpec,
    check_role,
    open_transport,
    parse_transport,
    roles_of,
)


@pytest.mark.parametrize(
    "text, spec",
    [
        ("usb:0", UsbSpec(0)),
        ("usb", UsbSpec(0)),
        ("usb:2", UsbSpec(2)),
        ("usb:2fe3:000b", UsbSpec(0, 0x2FE3, 0x000B)),
        ("usb:2FE3:000B#1", UsbSpec(1, 0x2FE3, 0x000B)),
        ("serial:/dev/ttyACM0,1000000", SerialSpec("/dev/ttyACM0", 1_000_000, False)),
        ("serial:/dev/ttyACM0,1000000,rtscts", SerialSpec("/dev/ttyACM0", 1_000_000, True)),
        ("serial:/dev/ttyUSB1,115200", SerialSpec("/dev/ttyUSB1", 115_200, False)),
        ("serial:/dev/ttyUSB1", SerialSpec("/dev/ttyUSB1", 1_000_000, False)),
        ("hci-socket:0", HciSocketSpec(0)),
        ("hci-socket:3", HciSocketSpec(3)),
        ("tcp-client:127.0.0.1:9001", TcpClientSpec("127.0.0.1", 9001)),
        ("tcp-client:[::1]:9001", TcpClientSpec("::1", 9001)),
        ("tcp-server:127.0.0.1:0", TcpServerSpec("127.0.0.1", 0)),
        ("tcp-server:_:9000", TcpServerSpec("", 9000)),
        ("tcp:9000", TcpServerSpec("127.0.0.1", 9000)),
        ("pty:/tmp/ble0", PtySpec("/tmp/ble0")),
        ("pty", PtySpec(None)),
        ("vhci", VhciSpec()),
        ("vhci:/dev/vhci2", VhciSpec("/dev/vhci2")),
    ],
)
def test_parse(text: str, spec: object) -> None:
    assert parse_transport(text) == spec
    # The canonical text parses to the same spec.
    assert parse_transport(str(spec)) == spec


def test_canonical_text() -> None:
    assert str(parse_transport("usb:2FE3:000B")) == "usb:2fe3:000b"
    assert str(parse_transport("serial:/dev/ttyACM0,1000000,rtscts")) == "serial:/dev/ttyACM0,1000000,rtscts"
    assert str(parse_transport("tcp-client:[::1]:9")) == "tcp-client:[::1]:9"
    assert str(parse_transport("tcp:9000")) == "tcp-server:127.0.0.1:9000"


@pytest.mark.parametrize(
    "text, words",
    [
        ("bluetooth:0", "unknown transport"),
        ("usb:xyz", "usb:N or usb:VVVV:PPPP"),
        ("serial:", "serial:PATH"),
        ("serial:/dev/x,fast", "baud rate 'fast' is not a number"),
        ("serial:/dev/x,12", "not in 300..20000000"),
        ("tcp-client:localhost", "HOST:PORT"),
        ("tcp-client:localhost:0", "port other than 0"),
        ("tcp-server:127.0.0.1:70000", "not in 0..65535"),
        ("hci-socket:first", "adapter index 'first'"),
    ],
)
def test_bad_specs_say_why(text: str, words: str) -> None:
    with pytest.raises(TransportSpecError, match=words):
        parse_transport(text)


def test_roles() -> None:
    assert roles_of(parse_transport("usb:0")) == ("host",)
    assert roles_of(parse_transport("hci-socket:0")) == ("host",)
    assert roles_of(parse_transport("vhci")) == ("controller",)
    assert roles_of(parse_transport("tcp:1")) == ("host", "controller")
    with pytest.raises(TransportSpecError, match="cannot serve a simulated controller"):
        check_role(parse_transport("usb:0"), "controller")
    with pytest.raises(TransportSpecError, match="cannot reach a real controller"):
        check_role(parse_transport("vhci"), "host")
    with pytest.raises(TransportSpecError, match="cannot reach a real controller"):
        open_transport("vhci", "host")
