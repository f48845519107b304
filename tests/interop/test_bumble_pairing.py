"""SMP interop with Bumble, an independent host stack: Bumble's host, as a central over
``tcp-server`` to a simulated controller, pairs with a simulated MicroPython peripheral
(``scenarios/firmware/micropython_bond_peripheral.py``: an encryption-only characteristic,
bond secrets kept by the firmware in ``secrets.json``) with LE Secure Connections and
bonding, then, after the peripheral has rebooted, encrypts again with the Long Term Key
from Bumble's key store, without pairing.

What each side must get right for this to pass: the Pairing Request/Response and the
P-256 public keys, DHKey Check and f5/f6 values computed by two independent
implementations; LE_Start_Encryption against LE Long Term Key Request with the key each
side derived; the keys each side distributed (Bumble stores the peripheral's identity); and
NimBLE's ATT errors on the clear link (Insufficient Authentication, then Insufficient
Encryption once a bond exists).

Bumble is told to distribute the static random address it connects with as its identity
address. By default it distributes its controller's public address while connecting with
the static one; the peripheral then keeps the bond under that public identity and, as
NimBLE does, finds no key for the next connection from the static address (PIN or Key
Missing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .bumble_rig import BumbleThread, outputs, run_until_done, runner_for, served_port

pytest.importorskip("bumble")

PERIPHERAL = "C4:00:00:00:B0:01"
SECRET_UUID = "6e400002-0b0b-4c1d-a2c3-1e5bd0f0b0d0"


@pytest.mark.parametrize("secure_connections", [True, False], ids=["le-secure", "legacy"])
def test_bumble_central_pairs_and_re_encrypts_with_a_micropython_peripheral(
    tmp_path: Path, bumble_thread: BumbleThread, secure_connections: bool
) -> None:
    # Legacy pairing: the peripheral distributes its LTK with EDIV and Rand, Bumble
    # encrypts with them later, and the peripheral's LTK request names the key by them.
    lines: list[str] = []
    runner = runner_for(f"""
name: bumble-pairing
seed: 4
duration: 60s
nodes:
  - name: peripheral
    personality: micropython
    firmware: firmware/micropython_bond_peripheral.py
    address: "{PERIPHERAL}"
  - name: bumble
    personality: hci
    transport: tcp-server:127.0.0.1:0
    position: [1, 0]
""", tmp_path, lines)
    port = served_port(runner, "bumble")

    async def central() -> dict[str, Any]:
        import asyncio

        from bumble.att import ATT_Error
        from bumble.core import UUID
        from bumble.device import Device, Peer
        from bumble.hci import Address
        from bumble.keys import MemoryKeyStore
        from bumble.pairing import PairingConfig, PairingDelegate

        out: dict[str, Any] = {}
        target = Address(PERIPHERAL, Address.PUBLIC_DEVICE_ADDRESS)

        async def read_secret(peer: Peer) -> Any:
            (secret,) = peer.get_characteristics_by_uuid(UUID(SECRET_UUID))
            try:
                return bytes(await secret.read_value())
            except ATT_Error as error:
                return error.error_code

        async with await open_transport(f"tcp-client:127.0.0.1:{port}") as t:
            device = Device.with_hci("bumble", Address("C0:98:E5:49:00:02"), t.source, t.sink)
            device.keystore = MemoryKeyStore()
            device.pairing_config_factory = lambda connection: PairingConfig(
                sc=secure_connections, mitm=False, bonding=True,
                identity_address_type=PairingConfig.AddressType.RANDOM,
                delegate=PairingDelegate(io_capability=PairingDelegate.IoCapability.NO_OUTPUT_NO_INPUT),
            )
            await device.power_on()

            connection = await asyncio.wait_for(device.connect(target), 15)
            peer = Peer(connection)
            await peer.discover_services()
            await peer.discover_characteristics()
            out["first_clear"] = await read_secret(peer)
            connection.on("pairing", lambda keys: out.__setitem__(
                "keys", ("ltk" if keys.ltk else "") + (" ltk_peripheral" if keys.ltk_peripheral else "")))
            await asyncio.wait_for(connection.pair(), 15)
            out["first_encrypted"] = connection.is_encrypted
            out["first_read"] = await read_secret(peer)
            await connection.disconnect()
            out["bonded_with"] = sorted(name for name, _ in await device.keystore.get_all())

            await asyncio.sleep(1.0)  # the peripheral reboots and advertises again
            connection = await asyncio.wait_for(device.connect(target), 15)
            peer = Peer(connection)
            await peer.discover_services()
            await peer.discover_characteristics()
            out["second_clear"] = await read_secret(peer)
            await asyncio.wait_for(connection.encrypt(), 15)
            out["second_encrypted"] = connection.is_encrypted
            out["second_read"] = await read_secret(peer)
            await connection.disconnect()
        return out

    from bumble.transport import open_transport

    done = bumble_thread.submit(central())
    run_until_done(runner, done.done)
    result = done.result(timeout=5)
    # ATT errors on the clear link: no key yet (0x05), a bonded client (0x0F).
    assert result["first_clear"] == 0x05
    assert result["first_encrypted"] and result["first_read"] == b"encrypted only"
    # LE Secure Connections: one LTK both sides derive; legacy: the one the peripheral sent.
    assert result["keys"] == ("ltk" if secure_connections else " ltk_peripheral")
    assert result["bonded_with"] == [PERIPHERAL + "/P"]  # Bumble's key store: our identity, public
    assert result["second_clear"] == 0x0F
    assert result["second_encrypted"] and result["second_read"] == b"encrypted only"
    out = outputs(runner, "peripheral")
    assert out.count("encrypted: 1 bonded: 1 key size: 16") == 2
    assert "rebooting" in out and "secrets loaded: 2" in out
    # One pairing only: the second connection was encrypted from the bond.
    assert out.count("peer bond saved") >= 1
    after_reboot = out[out.index("secrets loaded: 2"):]
    assert "peer bond saved" not in after_reboot


def test_micropython_central_pairs_and_re_encrypts_with_a_bumble_peripheral(
    tmp_path: Path, bumble_thread: BumbleThread
) -> None:
    # blesim's SMP as the initiator: the MicroPython central
    # (scenarios/firmware/micropython_bond_central.py) pairs with bonding, reads, leaves,
    # comes back and encrypts from its bond; Bumble answers the LTK request from its store.
    lines: list[str] = []
    runner = runner_for(f"""
name: bumble-pairing-peripheral
seed: 4
duration: 60s
nodes:
  - name: central
    personality: micropython
    firmware: firmware/micropython_bond_central.py
    address: "C4:00:00:00:B0:02"
  - name: bumble
    personality: hci
    transport: tcp-server:127.0.0.1:0
    address: "{PERIPHERAL}"
    position: [2, 0]
""", tmp_path, lines)
    port = served_port(runner, "bumble")

    def central_done() -> bool:
        return "done" in outputs(runner, "central") or bool(runner.record.nodes["central"].failures)

    async def peripheral() -> dict[str, Any]:
        import asyncio

        from bumble.device import Device
        from bumble.gatt import Characteristic, Service
        from bumble.hci import Address, OwnAddressType
        from bumble.keys import MemoryKeyStore
        from bumble.pairing import PairingConfig, PairingDelegate
        from bumble.transport import open_transport

        out: dict[str, Any] = {"pairings": 0}
        async with await open_transport(f"tcp-client:127.0.0.1:{port}") as t:
            device = Device.with_hci("bumble", Address("F0:F1:F2:F3:F4:F6"), t.source, t.sink)
            device.keystore = MemoryKeyStore()
            device.pairing_config_factory = lambda connection: PairingConfig(
                sc=True, mitm=False, bonding=True, identity_address_type=PairingConfig.AddressType.PUBLIC,
                delegate=PairingDelegate(io_capability=PairingDelegate.IoCapability.NO_OUTPUT_NO_INPUT),
            )
            device.add_service(Service("6e400001-0b0b-4c1d-a2c3-1e5bd0f0b0d0", [
                Characteristic(SECRET_UUID, Characteristic.Properties.READ,
                               Characteristic.READ_REQUIRES_ENCRYPTION, b"encrypted only"),
            ]))

            def on_connection(connection: Any) -> None:
                connection.on("pairing", lambda keys: out.__setitem__("pairings", out["pairings"] + 1))

            device.on("connection", on_connection)
            await device.power_on()
            await device.start_advertising(own_address_type=OwnAddressType.PUBLIC, auto_restart=True)
            while not central_done():
                await asyncio.sleep(0.05)
            out["bonded_with"] = sorted(name for name, _ in await device.keystore.get_all())
        return out

    done = bumble_thread.submit(peripheral())
    run_until_done(runner, done.done)
    result = done.result(timeout=5)
    out = outputs(runner, "central")
    assert runner.record.nodes["central"].failures == []
    assert out[0] == "visit 1 connected"
    assert out.count("encrypted: 1 bonded: 1 key size: 16") == 2
    assert out.count("read after encryption: b'encrypted only'") == 2
    assert out[-1] == "done"
    # Bumble paired once and keeps the central under the public identity it distributed.
    assert result["pairings"] == 1
    assert result["bonded_with"] == ["C4:00:00:00:B0:02/P"]
