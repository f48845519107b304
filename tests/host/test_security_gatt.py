"""Security seen by applications between two blesim nodes: GATT permissions against the
link's security, a client that pairs and retries, signed writes with the CSRK and its
counter, and the air capture of a pairing followed by the encrypted link.
"""

from __future__ import annotations

from pathlib import Path

from emu.capture_taps import attach_air_capture
from host.att import AttError
from host.att_pdu import ATT_SIGNED_WRITE_CMD, AttErrorCode
from host.gatt_db import AttributeAccess, CharacteristicDef, CharacteristicProperties, Permissions, ServiceDef
from host.smp_pdu import IoCapability
from host.smp_types import SmpConfig
from host.uuid import UUID
from phy.units import MS
from tests.tshark import assert_clean_capture, require_tshark, tshark_fields

from .test_security_rig import SecurityRig

E = AttErrorCode
P = Permissions
Props = CharacteristicProperties
IO = IoCapability


class Server:
    """The peripheral's service: one characteristic per security requirement."""

    def __init__(self, rig: SecurityRig) -> None:
        self.writes: list[bytes] = []

        def on_write(access: AttributeAccess) -> None:
            self.writes.append(bytes(access.value))

        svc = rig.peripheral.host.gatt_server.add_service(ServiceDef(UUID("8d5f0000-1fb4-4a21-9a3b-0c2f3e4d5a6b"), (
            CharacteristicDef(UUID(0x2A19), Props.READ, b"open", permissions=P.READ),
            CharacteristicDef(UUID(0x2A3D), Props.READ, b"enc", permissions=P.READ | P.READ_ENCRYPTED),
            CharacteristicDef(UUID(0x2A3E), Props.READ, b"mitm", permissions=P.READ | P.READ_AUTHENTICATED),
            CharacteristicDef(UUID(0x2A3F), Props.READ, b"long key", permissions=P.READ | P.READ_ENCRYPTED,
                              min_key_size=16),
            CharacteristicDef(UUID(0x2A40), Props.READ | Props.WRITE | Props.AUTHENTICATED_SIGNED_WRITES, b"",
                              permissions=P.READ | P.WRITE | P.WRITE_ENCRYPTED, write_hook=on_write),
        )))
        self.open, self.enc, self.mitm, self.long_key, self.signed = (
            c.value_handle for c in svc.characteristics)


def read(rig: SecurityRig, handle: int) -> bytes | AttError:
    c = rig.central
    assert c.handle is not None
    out: list[object] = []
    c.host.gatt_client(c.handle).read(handle, rig.now, out.append)
    c.driver.service()
    assert rig.run_until(lambda: bool(out), 500 * MS)
    result = out[0]
    assert isinstance(result, (bytes, AttError)), result
    return result


def code(result: bytes | AttError) -> int | None:
    return result.code if isinstance(result, AttError) else None


def test_permissions_follow_the_link_security_and_a_client_can_pair_and_retry() -> None:
    rig = SecurityRig(SmpConfig(), SmpConfig())
    server = Server(rig)
    rig.connect()
    assert read(rig, server.open) == b"open"
    # No LTK with this peer: an encryption-required value is Insufficient Authentication
    # (Vol 3 Part C 10.3.1: a client without a key must pair).
    assert code(read(rig, server.enc)) == E.INSUFFICIENT_AUTHENTICATION
    c_res, _ = rig.pair()  # the client pairs (Just Works) and retries
    assert c_res.success and not c_res.authenticated
    assert read(rig, server.enc) == b"enc"
    assert code(read(rig, server.mitm)) == E.INSUFFICIENT_AUTHENTICATION  # Just Works is not enough
    assert read(rig, server.long_key) == b"long key"

    # Bonded, reconnected, not yet encrypted: now it is Insufficient Encryption (an LTK
    # exists: the client only has to encrypt).
    rig.disconnect()
    rig.connect()
    assert code(read(rig, server.enc)) == E.INSUFFICIENT_ENCRYPTION
    c = rig.central
    assert c.handle is not None and c.host.encrypt(c.handle, rig.now)
    c.driver.service()
    assert rig.run_until(rig.encrypted, 500 * MS)
    assert read(rig, server.enc) == b"enc"


def test_authenticated_pairing_opens_mitm_values_and_a_short_key_is_refused() -> None:
    rig = SecurityRig(SmpConfig(io_capability=IO.KEYBOARD_ONLY, mitm=True, max_key_size=10),
                      SmpConfig(io_capability=IO.DISPLAY_ONLY, mitm=True))
    server = Server(rig)
    rig.connect()
    c_res, _ = rig.pair()
    assert c_res.success and c_res.authenticated and c_res.key_size == 10
    assert read(rig, server.mitm) == b"mitm"
    assert code(read(rig, server.long_key)) == E.ENCRYPTION_KEY_SIZE_TOO_SHORT


def test_signed_writes_with_the_csrk_and_counter_replays_and_forgeries_rejected() -> None:
    rig = SecurityRig(SmpConfig(), SmpConfig())
    server = Server(rig)
    rig.connect()
    assert rig.pair()[0].success
    rig.disconnect()
    rig.connect()  # an unencrypted link: data signing is what protects the write
    c, p = rig.central, rig.peripheral
    assert c.handle is not None and p.handle is not None
    sent: list[bytes] = []

    def tap(t: int, direction: str, h4_type: int, packet: bytes) -> None:
        if direction == "host->controller" and h4_type == 2 and packet[6:8] == b"\x04\x00" and packet[8] == 0xD2:
            sent.append(bytes(packet[8:]))

    c.controller.hci_taps.append(tap)
    for value in (b"one", b"two"):
        c.host.signed_write(c.handle, server.signed, value, rig.now)
        c.driver.service()
        rig.run(100 * MS)
    assert server.writes == [b"one", b"two"]
    first = ATT_SIGNED_WRITE_CMD.from_bytes(sent[0])
    assert int.from_bytes(first.authentication_signature[:4], "little") == 0  # SignCounter 0, then 1
    assert int.from_bytes(ATT_SIGNED_WRITE_CMD.from_bytes(sent[1]).authentication_signature[:4], "little") == 1
    assert p.host.bonds is not None
    bond = p.host.bonds.get(c.host.address)
    assert bond is not None and bond.peer_sign_counter == 2
    # A replay of the first write, and a forged copy of a fresh one, change nothing.
    c.host.l2cap.send_fixed(c.handle, 0x0004, sent[0])
    forged = bytearray(sent[1])
    forged[3] ^= 0x01  # the value, under a signature made for the original
    c.host.l2cap.send_fixed(c.handle, 0x0004, bytes(forged))
    c.driver.service()
    rig.run(100 * MS)
    assert server.writes == [b"one", b"two"]
    c.host.signed_write(c.handle, server.signed, b"three", rig.now)  # the next counter works
    c.driver.service()
    rig.run(100 * MS)
    assert server.writes[-1] == b"three"


def test_air_capture_shows_the_pairing_then_the_decrypted_link(tmp_path: Path) -> None:
    require_tshark()
    rig = SecurityRig(SmpConfig(io_capability=IO.KEYBOARD_ONLY, mitm=True),
                      SmpConfig(io_capability=IO.DISPLAY_ONLY, mitm=True))
    path = tmp_path / "air.pcap"
    capture = attach_air_capture(rig.world, path, sniffer_position=(1.0, 0.0))
    server = Server(rig)
    rig.connect()
    assert rig.pair()[0].success
    assert read(rig, server.enc) == b"enc"
    rig.run(50 * MS)
    capture.close()
    assert_clean_capture(path)
    rows = tshark_fields(path, ["frame.number", "btsmp.opcode", "btatt.opcode", "btle_rf.flags.decrypted",
                                "btle_rf.flags.mic_checked", "btle_rf.flags.mic_valid"])
    flags = [[v in ("1", "True") for v in r[3:]] for r in rows]  # decrypted, MIC checked, MIC valid
    smp = [(int(r[0]), int(r[1], 16), f[0]) for r, f in zip(rows, flags) if r[1]]
    opcodes = [o for _, o, _ in smp]
    assert opcodes[:2] == [0x01, 0x02] and 0x03 in opcodes and 0x04 in opcodes and 0x0C in opcodes
    # Key distribution (Phase 3: IRK, identity, CSRK; no LTK with Secure Connections) runs
    # on the encrypted link: written decrypted, MIC checked.
    assert {0x08, 0x09, 0x0A} <= set(opcodes) and 0x06 not in opcodes
    assert not any(decrypted for _, o, decrypted in smp if o in (0x01, 0x02, 0x03, 0x04, 0x0C, 0x0D))
    assert all(decrypted for _, o, decrypted in smp if o in (0x08, 0x09, 0x0A))
    reads = [f for r, f in zip(rows, flags) if r[2] in ("0x0a", "0x0b")]  # ATT_READ_REQ / ATT_READ_RSP
    assert len(reads) == 2 and all(f == [True, True, True] for f in reads)
