"""The server's attribute table: handle layout of addOrClearService and permissions."""

from __future__ import annotations

from apis.quectel.ble_gatt_table import (
    SYSTEM_SERVICES_LAST_HANDLE,
    Hooks,
    ServerTable,
    clear,
    install,
    permissions_of,
)
from host.gatt_db import CCCD_UUID, USER_DESCRIPTION_UUID, AttributeAccess, Permissions
from host.gatt_server import GattServer
from host.uuid import UUID

NO_HOOKS = Hooks(read=lambda uuid: (lambda access: None), write=lambda uuid: (lambda access: None))


def _seed_table() -> ServerTable:
    """The seed server: 0x180F, 0x2A19 (read|notify|indicate, 244 zeros), a CCCD."""
    t = ServerTable()
    assert t.add_service(1, True, UUID(0x180F))
    assert t.add_chara(1, 1, 0x02 | 0x10 | 0x20, UUID(0x2A19))
    assert t.add_value(1, 1, 0x0003, UUID(0x2A19), bytes(244))
    assert t.add_desc(1, 1, 0x0003, UUID(0x2902), b"\x00\x00")
    return t


def test_mode_0_puts_the_user_service_at_handle_1() -> None:
    server, table = GattServer(), _seed_table()
    install(server, table, NO_HOOKS, keep_system=False, device_name="x", now=0)
    (info,) = server.describe()
    assert (info.start_handle, info.end_handle, info.uuid) == (1, 4, UUID(0x180F))
    (chara,) = info.characteristics
    assert (chara.declaration_handle, chara.value_handle, chara.properties) == (2, 3, 0x32)
    assert [(d.handle, d.uuid) for d in chara.descriptors] == [(4, CCCD_UUID)]  # one CCCD, not two
    assert table.value_handles == {(1, 1): 3}
    assert server.get_value(3) == bytes(244)


def test_mode_1_keeps_system_services_in_handles_1_to_15() -> None:
    server, table = GattServer(), _seed_table()
    install(server, table, NO_HOOKS, keep_system=True, device_name="Quectel_ble", now=0)
    services = server.describe()
    assert [(s.start_handle, s.end_handle, s.uuid) for s in services] == [
        (1, 7, UUID(0x1800)), (8, SYSTEM_SERVICES_LAST_HANDLE, UUID(0x1801)), (16, 19, UUID(0x180F)),
    ]
    assert table.value_handles[(1, 1)] == 16 + 2  # BLE_SERVER_HANDLE + 2
    assert server.gap_handles is not None and server.get_value(server.gap_handles.device_name) == b"Quectel_ble"


def test_layout_follows_declarations_not_call_order() -> None:
    # As the XZB123 firmware: characteristic 2 declared first, values and descriptors later.
    t = ServerTable()
    t.add_service(1, True, UUID(0xFEE0))
    t.add_chara(1, 2, 0x04 | 0x08, UUID(0xFEE1))
    t.add_chara(1, 1, 0x10, UUID(0xFEE2))
    t.add_value(1, 1, 0x0001, UUID(0xFEE2), b"")
    t.add_value(1, 2, 0x0002, UUID(0xFEE1), b"")
    t.add_desc(1, 1, 0x0003, UUID(0x2902), b"\x00\x00")
    t.add_desc(1, 1, 0x0001, UUID(0x2901), b"notify")
    server = GattServer()
    install(server, t, NO_HOOKS, keep_system=True, device_name="XZB123", now=0)
    assert t.value_handles == {(1, 2): 18, (1, 1): 20}
    (_, _, info) = server.describe()
    assert [(d.handle, d.uuid) for d in info.characteristics[1].descriptors] == [
        (21, CCCD_UUID), (22, USER_DESCRIPTION_UUID)
    ]


def test_declarations_refused() -> None:
    t = ServerTable()
    assert t.add_service(1, True, UUID(0x180F))
    assert not t.add_service(1, True, UUID(0x180A))  # server_id taken
    assert not t.add_chara(2, 1, 0x02, UUID(0x2A19))  # no such service
    assert t.add_chara(1, 1, 0x02, UUID(0x2A19))
    assert not t.add_chara(1, 1, 0x02, UUID(0x2A19))  # chara_id taken
    assert not t.add_value(1, 9, 1, UUID(0x2A19), b"")  # no such characteristic
    assert t.add_value(1, 1, 1, UUID(0x2A19), b"")
    assert not t.add_value(1, 1, 1, UUID(0x2A19), b"")  # a second value
    assert not t.add_desc(3, 1, 1, UUID(0x2901), b"")


def test_clear_leaves_only_the_system_services_or_nothing() -> None:
    server = GattServer()
    install(server, _seed_table(), NO_HOOKS, keep_system=False, device_name="", now=0)
    clear(server, keep_system=False, device_name="", now=0)
    assert server.describe() == []
    clear(server, keep_system=True, device_name="", now=0)
    assert [s.uuid for s in server.describe()] == [UUID(0x1800), UUID(0x1801)]


def test_hooks_are_attached_to_values_and_descriptors() -> None:
    seen: list[tuple[str, UUID]] = []

    def read(uuid: UUID):  # type: ignore[no-untyped-def]
        def hook(access: AttributeAccess) -> None:
            seen.append(("read", uuid))
        return hook

    server, table = GattServer(), _seed_table()
    install(server, table, Hooks(read=read, write=lambda uuid: (lambda a: None)), False, "", 0)
    assert server.db[3].read_hook is not None and server.db[3].write_hook is not None
    server.db[3].read_hook(AttributeAccess(0, 3, UUID(0x2A19), None, 0, b"", 0))  # type: ignore[arg-type]
    assert seen == [("read", UUID(0x2A19))]


def test_permissions() -> None:
    P = Permissions
    assert permissions_of(0x0001) == P.READ
    assert permissions_of(0x0003) == P.READ | P.WRITE
    assert permissions_of(0x0000) == P(0)
    assert permissions_of(0x0004) == P.READ | P.READ_AUTHENTICATED
    assert permissions_of(0x0008) == P.READ | P.READ_AUTHORIZED
    assert permissions_of(0x0010) == P.READ | P.READ_ENCRYPTED
    assert permissions_of(0x0020) == P.READ | P.READ_AUTHENTICATED | P.READ_AUTHORIZED
    assert permissions_of(0x0040) == P.WRITE | P.WRITE_AUTHENTICATED
    assert permissions_of(0x0080) == P.WRITE | P.WRITE_AUTHORIZED
    assert permissions_of(0x0100) == P.WRITE | P.WRITE_ENCRYPTED
    assert permissions_of(0x0200) == P.WRITE | P.WRITE_AUTHENTICATED | P.WRITE_AUTHORIZED
