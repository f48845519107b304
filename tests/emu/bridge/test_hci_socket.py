"""The HCI user channel transport against a fake kernel socket replaying our controller,
and the messages that say what is missing."""

from __future__ import annotations

import errno
import socket

import pytest

from emu.bridge.hci_socket import HciSocketTransport, bind_error_message, open_user_channel, socket_error_message
from emu.bridge.transports import HciSocketSpec, TransportError
from host.events import AdvertisingStarted, Connected, PoweredOn

from .fakes import FakeHciSocket
from .rigs import host_over
from .session import DONGLE_ADDRESS, record_session


def test_host_over_the_user_channel_replays_the_session() -> None:
    script = record_session()
    fake = FakeHciSocket(script)
    transport = HciSocketTransport(HciSocketSpec(0), sock=fake.ours)
    rig = host_over(transport)
    try:
        assert rig.run_until(lambda: fake.replay.finished), fake.replay.mismatches
        assert fake.replay.mismatches == []
        events = rig.events
        assert [e.public_address for e in events if isinstance(e, PoweredOn)] == [DONGLE_ADDRESS]
        assert any(isinstance(e, AdvertisingStarted) for e in events)
        assert any(isinstance(e, Connected) for e in events)
        assert transport.packets_out == sum(1 for who, _, _ in script if who == "host")
        assert transport.packets_in == sum(1 for who, _, _ in script if who == "ctrl")
        fake.adapter_removed()
        assert rig.run_until(lambda: bool(rig.lost))
        assert rig.lost[0][1] == "adapter hci0 went away"
    finally:
        transport.close()


@pytest.mark.parametrize(
    "err, words",
    [
        (errno.EPERM, "lacks CAP_NET_ADMIN.*setcap cap_net_admin"),
        (errno.EBUSY, "hci2 is up or in use by BlueZ.*btmgmt --index 2 power off.*hciconfig hci2 down"),
        (errno.EALREADY, "hci2 is up or in use by BlueZ"),
        (errno.ENODEV, "there is no adapter hci2"),
        (errno.EINVAL, "no HCI user channel"),
    ],
)
def test_bind_refusals_say_what_to_do(err: int, words: str) -> None:
    assert pytest.importorskip("re").search(words, bind_error_message(HciSocketSpec(2), err))


def test_socket_refusals_say_what_is_missing() -> None:
    spec = HciSocketSpec(0)
    assert "no Bluetooth sockets (AF_BLUETOOTH is not supported" in socket_error_message(spec, errno.EAFNOSUPPORT)
    assert "run as root" in socket_error_message(spec, errno.EPERM)


def test_opening_here_fails_clearly_or_works() -> None:
    try:
        probe = socket.socket(31, socket.SOCK_RAW, 1)
    except OSError:
        # No Bluetooth in this kernel (CI containers): the transport says so.
        with pytest.raises(TransportError, match="hci-socket:0: this system has no Bluetooth sockets"):
            open_user_channel(HciSocketSpec(0))
        return
    probe.close()
    # A Bluetooth-capable machine: hci250 does not exist.
    with pytest.raises(TransportError, match="hci-socket:250: "):
        open_user_channel(HciSocketSpec(250))
