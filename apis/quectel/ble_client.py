"""The client's GATT procedures, reported one ATT response at a time.

Theory of operation
-------------------
The Quectel client API reports each ATT response of a procedure as it arrives: event 27
per service found, event 28 with the payload of each Read By Type response during
characteristic discovery, event 29 per Find Information response, 32/33/34/36 per read
response, and event 37 ``(37, 0, errcode)`` for an ATT_ERROR_RSP. The payload of a
"data" event is the ATT response without its opcode, so it is taken from the decoded
response's own encoding: nothing here re-formats protocol data.

The procedures follow Core Specification Vol 3 Part G 4: discovery continues from the
last handle found + 1 until the end of the range or an error (4.4.1, 4.5.1, 4.6.1,
4.7.1); a long read continues with Read Blob while the part fills ATT_MTU - 1 octets
(4.8.3); a long or offset write uses Prepare Write + Execute Write (4.9.4). As on the
module, the Attribute Not Found that ends characteristic, include and descriptor
discovery *is* reported as event 37 (the seed client waits for it), while the one that
ends primary service discovery is not (the seed client would otherwise take it for the
end of characteristic discovery, which it starts from inside event 27).

Every request goes through the connection's :class:`~host.att.AttBearer` (one request
outstanding at a time, queued in order, shared with the host's own GATT client).
:class:`~host.att.AttLocalError` from the bearer (a PDU longer than ATT_MTU) propagates
to the caller, which returns -1.

A host change would let this module shrink to formatting: see the report of issue 8
(``GattClient`` procedures with a per-response observer).
"""

from __future__ import annotations

from typing import Callable

from host.att import AttBearer, AttError
from host.att_constants import AttErrorCode
from host.att_pdu import (
    ATT_EXECUTE_WRITE_REQ,
    ATT_FIND_BY_TYPE_VALUE_REQ,
    ATT_FIND_BY_TYPE_VALUE_RSP,
    ATT_FIND_INFORMATION_REQ,
    ATT_FIND_INFORMATION_RSP,
    ATT_PREPARE_WRITE_REQ,
    ATT_READ_BLOB_REQ,
    ATT_READ_BY_GROUP_TYPE_REQ,
    ATT_READ_BY_GROUP_TYPE_RSP,
    ATT_READ_BY_TYPE_REQ,
    ATT_READ_BY_TYPE_RSP,
    ATT_READ_MULTIPLE_REQ,
    ATT_READ_REQ,
    ATT_WRITE_CMD,
    ATT_WRITE_REQ,
    AttPdu,
)
from host.gatt_db import CHARACTERISTIC_UUID, INCLUDE_UUID, PRIMARY_SERVICE_UUID, att_uuid_bytes
from host.uuid import UUID, UUIDError

from . import ble_events as ev
from .ble_events import EventArgs

__all__ = ["ClientProcedures"]

Post = Callable[[EventArgs], None]
Response = AttPdu | AttError


class ClientProcedures:
    """The client's GATT procedures over one bearer; events go to ``post``."""

    def __init__(self, post: Post) -> None:
        self.post = post

    # -- errors -------------------------------------------------------------------------

    def _error(self, error: AttError, quiet_not_found: bool = False) -> None:
        if error.code == 0:  # bearer closed or timed out: no ATT error code to report
            return
        if quiet_not_found and error.code == AttErrorCode.ATTRIBUTE_NOT_FOUND:
            return
        self.post(ev.att_error(error.code))

    def _unexpected(self) -> None:
        self.post(ev.att_error(AttErrorCode.INVALID_PDU))

    # -- service discovery ----------------------------------------------------------------

    def discover_all_services(self, bearer: AttBearer, now: int) -> None:
        """Discover All Primary Services (4.4.1): event 27 per service."""

        def request(start: int, when: int) -> None:
            bearer.request(ATT_READ_BY_GROUP_TYPE_REQ(start, 0xFFFF, PRIMARY_SERVICE_UUID), when,
                           lambda rsp, t: answer(start, rsp, t))

        def answer(start: int, rsp: Response, when: int) -> None:
            if isinstance(rsp, AttError):
                self._error(rsp, quiet_not_found=True)
                return
            if not isinstance(rsp, ATT_READ_BY_GROUP_TYPE_RSP) or not rsp.attribute_data_list:
                self._unexpected()
                return
            last = start
            for entry in rsp.attribute_data_list:
                try:
                    uuid = UUID.from_bytes(entry.attribute_value)
                except UUIDError:
                    self._unexpected()
                    return
                self.post(ev.discover_service(entry.attribute_handle, entry.end_group_handle, uuid))
                last = entry.end_group_handle
            if start <= last < 0xFFFF:
                request(last + 1, when)

        request(0x0001, now)

    def discover_by_uuid(self, bearer: AttBearer, uuid: UUID, now: int) -> None:
        """Discover Primary Service by Service UUID (4.4.2): event 27 per service."""
        value = att_uuid_bytes(uuid)

        def request(start: int, when: int) -> None:
            pdu = ATT_FIND_BY_TYPE_VALUE_REQ(start, 0xFFFF, PRIMARY_SERVICE_UUID, value)
            bearer.request(pdu, when, lambda rsp, t: answer(start, rsp, t))

        def answer(start: int, rsp: Response, when: int) -> None:
            if isinstance(rsp, AttError):
                self._error(rsp, quiet_not_found=True)
                return
            if not isinstance(rsp, ATT_FIND_BY_TYPE_VALUE_RSP) or not rsp.handles_information_list:
                self._unexpected()
                return
            last = start
            for info in rsp.handles_information_list:
                self.post(ev.discover_service(info.found_attribute_handle, info.group_end_handle, uuid))
                last = info.group_end_handle
            if start <= last < 0xFFFF:
                request(last + 1, when)

        request(0x0001, now)

    # -- within a service ------------------------------------------------------------------

    def _read_by_type_loop(
        self, bearer: AttBearer, start: int, end: int, uuid: UUID, event_id: int | None, now: int
    ) -> None:
        """Read By Type over ``start..end`` until done; each response's payload becomes
        ``event_id`` (None: not reported); the ending error becomes event 37."""

        def request(first: int, when: int) -> None:
            bearer.request(ATT_READ_BY_TYPE_REQ(first, end, uuid), when, lambda rsp, t: answer(first, rsp, t))

        def answer(first: int, rsp: Response, when: int) -> None:
            if isinstance(rsp, AttError):
                self._error(rsp)
                return
            if not isinstance(rsp, ATT_READ_BY_TYPE_RSP) or not rsp.attribute_data_list:
                self._unexpected()
                return
            if event_id is not None:
                self.post(ev.payload_event(event_id, rsp.to_bytes()[1:]))
            last = rsp.attribute_data_list[-1].handle
            if first <= last < end:
                request(last + 1, when)

        request(start, now)

    def discover_includes(self, bearer: AttBearer, start: int, end: int, now: int) -> None:
        """Find Included Services (4.5.1): only its ending error is reported (event 37)."""
        self._read_by_type_loop(bearer, start, end, INCLUDE_UUID, None, now)

    def discover_characteristics(self, bearer: AttBearer, start: int, end: int, now: int) -> None:
        """Discover All Characteristics of a Service (4.6.1): event 28 per response."""
        self._read_by_type_loop(
            bearer, start, end, CHARACTERISTIC_UUID, ev.BLE_GATT_DISCOVER_CHARACTERISTIC_DATA_IND, now
        )

    def discover_descriptors(self, bearer: AttBearer, start: int, end: int, now: int) -> None:
        """Discover All Characteristic Descriptors (4.7.1): event 29 per response."""

        def request(first: int, when: int) -> None:
            bearer.request(ATT_FIND_INFORMATION_REQ(first, end), when, lambda rsp, t: answer(first, rsp, t))

        def answer(first: int, rsp: Response, when: int) -> None:
            if isinstance(rsp, AttError):
                self._error(rsp)
                return
            if not isinstance(rsp, ATT_FIND_INFORMATION_RSP) or not rsp.information_data:
                self._unexpected()
                return
            self.post(ev.payload_event(ev.BLE_GATT_DISCOVER_CHARA_DESC_IND, rsp.to_bytes()[1:]))
            last = rsp.information_data[-1].handle
            if first <= last < end:
                request(last + 1, when)

        request(start, now)

    # -- reads -----------------------------------------------------------------------------

    def read_by_uuid(self, bearer: AttBearer, start: int, end: int, uuid: UUID, now: int) -> None:
        """Read Using Characteristic UUID (4.8.2): one request, event 33."""

        def answer(rsp: Response, when: int) -> None:
            if isinstance(rsp, AttError):
                self._error(rsp)
            elif isinstance(rsp, ATT_READ_BY_TYPE_RSP):
                self.post(ev.payload_event(ev.BLE_GATT_CHARA_READ_BY_UUID_IND, rsp.to_bytes()[1:]))
            else:
                self._unexpected()

        bearer.request(ATT_READ_BY_TYPE_REQ(start, end, uuid), now, answer)

    def read(self, bearer: AttBearer, handle: int, offset: int, is_long: bool, event_id: int, now: int) -> None:
        """Read (4.8.1), Read Blob at ``offset``, or Read Long (4.8.3) with ``is_long``:
        ``event_id`` (32 or 36) per response, with the value part it carries."""

        def request(at: int, when: int) -> None:
            pdu: AttPdu = ATT_READ_REQ(handle) if at == 0 else ATT_READ_BLOB_REQ(handle, at)
            bearer.request(pdu, when, lambda rsp, t: answer(at, rsp, t))

        def answer(at: int, rsp: Response, when: int) -> None:
            if isinstance(rsp, AttError):
                self._error(rsp)
                return
            part = rsp.to_bytes()[1:]
            self.post(ev.payload_event(event_id, part))
            if is_long and len(part) >= bearer.mtu - 1:
                request(at + len(part), when)

        request(offset, now)

    def read_multiple(self, bearer: AttBearer, handles: tuple[int, ...], now: int) -> None:
        """Read Multiple Characteristic Values (4.8.4): event 34."""

        def answer(rsp: Response, when: int) -> None:
            if isinstance(rsp, AttError):
                self._error(rsp)
            else:
                self.post(ev.payload_event(ev.BLE_GATT_CHARA_MULTI_READ_IND, rsp.to_bytes()[1:]))

        bearer.request(ATT_READ_MULTIPLE_REQ(handles), now, answer)

    # -- writes ----------------------------------------------------------------------------

    def write(
        self, bearer: AttBearer, handle: int, offset: int, is_long: bool, data: bytes, event_id: int, now: int
    ) -> None:
        """Write Characteristic Value (4.9.3), or with ``is_long`` / an offset Write Long
        Characteristic Values (4.9.4): ``(event_id, 0)`` (30 or 35) when it is done."""

        def done(rsp: Response, when: int) -> None:
            if isinstance(rsp, AttError):
                self._error(rsp)
            else:
                self.post(ev.chara_write_done(event_id))

        if not is_long and offset == 0:
            bearer.request(ATT_WRITE_REQ(handle, bytes(data)), now, done)
            return
        size = max(1, bearer.mtu - 5)
        parts = [(offset + i, data[i : i + size]) for i in range(0, len(data), size)] or [(offset, b"")]

        def prepare(index: int, when: int) -> None:
            at, part = parts[index]
            bearer.request(ATT_PREPARE_WRITE_REQ(handle, at, bytes(part)), when,
                           lambda rsp, t: prepared(index, rsp, t))

        def prepared(index: int, rsp: Response, when: int) -> None:
            if isinstance(rsp, AttError):
                if rsp.code != 0:  # cancel what was queued, then report the error
                    bearer.request(ATT_EXECUTE_WRITE_REQ(0), when, lambda _r, _t: None)
                self._error(rsp)
            elif index + 1 < len(parts):
                prepare(index + 1, when)
            else:
                bearer.request(ATT_EXECUTE_WRITE_REQ(1), when, done)

        prepare(0, now)

    def write_without_response(self, bearer: AttBearer, handle: int, data: bytes) -> bool:
        """Write Without Response (4.9.1); event 31 once it is handed to the link."""
        if not bearer.send_command(ATT_WRITE_CMD(handle, bytes(data))):
            return False
        self.post(ev.chara_write_done(ev.BLE_GATT_CHARA_WRITE_WITHOUT_RSP_IND))
        return True
