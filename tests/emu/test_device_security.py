"""Security through the Python device API: ``Connection.pair`` (a fresh pairing) and
``Connection.encrypt`` (re-encryption of a reconnection from the stored bond, without
pairing: Vol 3 Part C 10.3.3, Vol 3 Part H 2.4.4), over the simulated radio."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emu.device import Connection, Device, DeviceError, DeviceUsageError
from emu.world import make_world
from host.events import EncryptionChanged, HostEvent, PairingComplete
from host.smp_types import LinkSecurity, PairingResult

PIN_OR_KEY_MISSING = 0x06


class Rig:
    """A phone (central) and a sensor (peripheral) recording their security events."""

    def __init__(self) -> None:
        world = make_world(seed=11)
        self.phone = Device.create(world, "phone", (0.0, 0.0))
        self.sensor = Device.create(world, "sensor", (2.0, 0.0))
        self.events: dict[str, list[HostEvent]] = {"phone": [], "sensor": []}
        for name, device in (("phone", self.phone), ("sensor", self.sensor)):
            device.driver.listeners.append(self._recorder(name))
        self.sensor.advertise(name="sensor", interval_ms=20)

    def _recorder(self, name: str) -> Callable[[int, HostEvent], None]:
        def record(t_ns: int, event: HostEvent) -> None:
            if isinstance(event, (PairingComplete, EncryptionChanged)):
                self.events[name].append(event)

        return record

    def connect(self) -> tuple[Connection, Connection]:
        central = self.phone.connect(self.sensor.address, interval_ms=15)
        peripheral = self.sensor.wait_for_connection(2000)
        return central, peripheral

    def reconnect(self) -> tuple[Connection, Connection]:
        self.sensor.advertise(name="sensor", interval_ms=20)
        return self.connect()

    def kinds(self, name: str) -> list[str]:
        return [type(e).__name__ for e in self.events[name]]

    def paired(self) -> None:
        """Wait until the sensor saw the pairing end too (it receives the central's keys,
        the last PDUs of the pairing, after the central is done)."""
        self.sensor.wait_for(lambda: "PairingComplete" in self.kinds("sensor"), 1000)

    def clear(self) -> None:
        for log in self.events.values():
            log.clear()


def test_reconnection_after_bonding_is_encrypted_from_the_bond_without_pairing() -> None:
    rig = Rig()
    central, peripheral = rig.connect()
    assert central.security == LinkSecurity()
    result = central.pair()
    assert isinstance(result, PairingResult) and result.success and result.bonded
    assert central.security.encrypted and central.security.bonded
    rig.paired()
    assert rig.phone.host.bonds is not None and len(rig.phone.host.bonds) == 1
    assert rig.sensor.host.bonds is not None and len(rig.sensor.host.bonds) == 1
    central.disconnect()

    rig.clear()
    central, peripheral = rig.reconnect()
    assert not central.security.encrypted
    security = central.encrypt()
    # The bond's key: Just Works LE Secure Connections, 16 octets, bonded; both sides agree.
    assert security == LinkSecurity(True, False, 16, True, True)
    rig.sensor.wait_for(lambda: peripheral.security.encrypted, 1000)
    assert peripheral.security == LinkSecurity(True, False, 16, True, True)
    # Only Encryption Change on each side: no pairing ran.
    assert rig.kinds("phone") == ["EncryptionChanged"]
    assert rig.kinds("sensor") == ["EncryptionChanged"]
    assert all(isinstance(e, EncryptionChanged) and e.status == 0 and e.enabled
               for e in rig.events["phone"] + rig.events["sensor"])


def test_pair_on_a_bonded_reconnection_pairs_again() -> None:
    rig = Rig()
    central, _ = rig.connect()
    central.pair()
    central.disconnect()
    rig.clear()
    central, _ = rig.reconnect()
    result = central.pair()
    assert isinstance(result, PairingResult) and result.success and not result.reused_keys
    rig.paired()
    assert "PairingComplete" in rig.kinds("phone") and "PairingComplete" in rig.kinds("sensor")


def test_encrypt_needs_a_bond_and_the_central_role() -> None:
    rig = Rig()
    central, peripheral = rig.connect()
    with pytest.raises(DeviceUsageError, match="no bond"):
        central.encrypt()
    central.pair()
    with pytest.raises(DeviceUsageError, match="central"):
        peripheral.encrypt()


def test_encrypt_fails_when_the_peer_forgot_the_bond() -> None:
    rig = Rig()
    central, _ = rig.connect()
    central.pair()
    central.disconnect()
    assert rig.sensor.host.bonds is not None
    rig.sensor.host.bonds.clear()
    central, _ = rig.reconnect()
    with pytest.raises(DeviceError, match="0x06"):
        central.encrypt()
    assert not central.security.encrypted
    changes = [e for e in rig.events["phone"] if isinstance(e, EncryptionChanged)]
    assert changes[-1].status == PIN_OR_KEY_MISSING
