"""``BLE.gattc_*``: the GATT client, over the host's :class:`~host.gatt_client.GattClient`.

Theory of operation
-------------------
Each call starts one host GATT procedure on the connection's client and returns at
once. A discovery's results become IRQs as the ATT responses carrying them arrive (the
host's ``on_results``), spread over connection events as on a board; the ``..._DONE``
follows when the procedure ends:

========================================  =============================================
call                                      IRQs
========================================  =============================================
``gattc_discover_services(conn, uuid)``   ``_IRQ_GATTC_SERVICE_RESULT (conn, start, end, uuid)``\\*, ``_IRQ_GATTC_SERVICE_DONE (conn, status)``
``gattc_discover_characteristics``        ``_IRQ_GATTC_CHARACTERISTIC_RESULT (conn, end_handle, value_handle, properties, uuid)``\\*, ``..._DONE``
``gattc_discover_descriptors``            ``_IRQ_GATTC_DESCRIPTOR_RESULT (conn, handle, uuid)``\\*, ``..._DONE``
``gattc_read(conn, handle)``              ``_IRQ_GATTC_READ_RESULT (conn, handle, data)``, ``_IRQ_GATTC_READ_DONE (conn, handle, status)``
``gattc_write(conn, handle, data, 1)``    ``_IRQ_GATTC_WRITE_DONE (conn, handle, status)``
``gattc_exchange_mtu(conn)``              ``_IRQ_MTU_EXCHANGED (conn, mtu)`` (on both sides)
========================================  =============================================

As on NimBLE: a characteristic's end handle is the next declaration minus one (the end
of the range for the last one), so its result is raised with the response carrying the
next declaration, or at the end of the procedure; results raised before an error
stay raised, the error is the ``_DONE`` status; a UUID filter is applied locally, descriptor discovery
covers every attribute in (start, end] (Find Information from ``start + 1``), a read is
one Read Request (ATT_MTU-1 octets) and writes of both modes are cut to ATT_MTU-3
octets (no long writes). Status 0 is success; an ATT error is ``0x100 + code`` with
NimBLE (the code itself with BTstack), a lost link ``BLE_HS_ENOTCONN`` (7) and an ATT
timeout ``BLE_HS_ETIMEOUT`` (13). BTstack reports ``value_handle`` 0 in
``_IRQ_GATTC_READ_DONE`` and ``_IRQ_GATTC_WRITE_DONE``. Incoming notifications and
indications (the host confirms indications) raise ``_IRQ_GATTC_NOTIFY`` /
``_IRQ_GATTC_INDICATE (conn, handle, data)``.
"""

from __future__ import annotations

from typing import Any

from host.att import AttBearerClosedError, AttError, AttLocalError, AttTimeoutError
from host.events import Indication, MtuExchanged, Notification
from host.gatt_client import GattClient
from host.gatt_db import CharacteristicInfo, DescriptorInfo, ServiceInfo
from host.hci import LocalError
from host.uuid import UUID as HostUUID

from .ble_core import BleCore, ConnInfo, buffer_bytes
from .errors import (
    BLE_HS_ENOTCONN,
    BLE_HS_ERR_ATT_BASE,
    BLE_HS_ETIMEOUT,
    EALREADY,
    EBUSY,
    EINVAL,
    ENOTCONN,
    raise_errno,
)
from .gap import IRQ
from .irq import Buf
from .uuid import UUID, from_host_uuid, to_host_uuid

__all__ = ["GattcMixin"]

_PLACEHOLDER_UUID = HostUUID(0x2800)


class GattcMixin(BleCore):
    """The GATT client part of ``BLE`` (see the module docstring)."""

    _char_discovery: set[int]

    def _init_gattc(self) -> None:
        self._char_discovery = set()
        self._on(Notification, self._ev_notification)
        self._on(Indication, self._ev_indication)
        self._on(MtuExchanged, self._ev_mtu)

    def _gattc_closed(self, info: ConnInfo) -> None:
        self._char_discovery.discard(info.handle)

    # -- helpers ------------------------------------------------------------------------

    def _client(self, conn_handle: Any) -> GattClient:
        self._check_active()
        try:
            return self._host.gatt_client(int(conn_handle))
        except LocalError:
            raise_errno(ENOTCONN)

    def _status(self, outcome: object) -> int:
        if not isinstance(outcome, AttError):
            return 0
        if isinstance(outcome, AttTimeoutError):
            return BLE_HS_ETIMEOUT
        if isinstance(outcome, AttBearerClosedError):
            return BLE_HS_ENOTCONN
        code = int(outcome.code)
        return BLE_HS_ERR_ATT_BASE + code if self._nimble else code

    def _uuid_filter(self, uuid: Any) -> HostUUID | None:
        if uuid is None:
            return None
        if not isinstance(uuid, UUID):
            raise TypeError("UUID object required")
        return to_host_uuid(uuid, nimble=self._nimble)

    # -- discovery ------------------------------------------------------------------------

    def gattc_discover_services(self, conn_handle: int, uuid: Any = None) -> None:
        """``BLE.gattc_discover_services(conn_handle, uuid=None)``."""
        client = self._client(conn_handle)
        conn = int(conn_handle)
        wanted = self._uuid_filter(uuid)

        def results(batch: list[ServiceInfo]) -> None:
            for svc in batch:
                self._irq.post(
                    IRQ.GATTC_SERVICE_RESULT, (conn, svc.start_handle, svc.end_handle, from_host_uuid(svc.uuid))
                )

        def done(outcome: list[ServiceInfo] | AttError) -> None:
            self._irq.post(IRQ.GATTC_SERVICE_DONE, (conn, self._status(outcome)))

        client.discover_primary_services(self._now, wanted, done, on_results=results)
        self._service()

    def gattc_discover_characteristics(
        self, conn_handle: int, start_handle: int, end_handle: int, uuid: Any = None
    ) -> None:
        """``BLE.gattc_discover_characteristics(conn_handle, start_handle, end_handle, uuid=None)``."""
        client = self._client(conn_handle)
        conn = int(conn_handle)
        if conn in self._char_discovery:
            raise_errno(EBUSY)
        start, end = int(start_handle), int(end_handle)
        if not 1 <= start <= end <= 0xFFFF:
            raise_errno(EINVAL)
        wanted = self._uuid_filter(uuid)
        service = ServiceInfo(start, end, _PLACEHOLDER_UUID)

        def results(batch: list[CharacteristicInfo]) -> None:
            for c in batch:
                self._irq.post(
                    IRQ.GATTC_CHARACTERISTIC_RESULT,
                    (conn, c.end_handle, c.value_handle, c.properties, from_host_uuid(c.uuid)),
                )

        def done(outcome: list[CharacteristicInfo] | AttError) -> None:
            self._char_discovery.discard(conn)
            self._irq.post(IRQ.GATTC_CHARACTERISTIC_DONE, (conn, self._status(outcome)))

        self._char_discovery.add(conn)
        client.discover_characteristics(service, self._now, wanted, done, on_results=results)
        self._service()

    def gattc_discover_descriptors(self, conn_handle: int, start_handle: int, end_handle: int) -> None:
        """``BLE.gattc_discover_descriptors(conn_handle, start_handle, end_handle)``:
        every attribute in (start_handle, end_handle]."""
        client = self._client(conn_handle)
        conn = int(conn_handle)
        start, end = int(start_handle), int(end_handle)
        if not 1 <= start <= end <= 0xFFFF:
            raise_errno(EINVAL)
        span = CharacteristicInfo(start, start, end, _PLACEHOLDER_UUID, 0)

        def results(batch: list[DescriptorInfo]) -> None:
            for d in batch:
                self._irq.post(IRQ.GATTC_DESCRIPTOR_RESULT, (conn, d.handle, from_host_uuid(d.uuid)))

        def done(outcome: list[DescriptorInfo] | AttError) -> None:
            self._irq.post(IRQ.GATTC_DESCRIPTOR_DONE, (conn, self._status(outcome)))

        client.discover_descriptors(span, self._now, done, on_results=results)
        self._service()

    # -- reads and writes ---------------------------------------------------------------

    def gattc_read(self, conn_handle: int, value_handle: int) -> None:
        """``BLE.gattc_read(conn_handle, value_handle)``."""
        client = self._client(conn_handle)
        conn, handle = int(conn_handle), int(value_handle)
        done_handle = handle if self._nimble else 0

        def done(outcome: bytes | AttError) -> None:
            if not isinstance(outcome, AttError):
                self._irq.post(IRQ.GATTC_READ_RESULT, (conn, handle, Buf(outcome)))
            self._irq.post(IRQ.GATTC_READ_DONE, (conn, done_handle, self._status(outcome)))

        try:
            client.read(handle, self._now, done)
        except AttLocalError:
            raise_errno(EINVAL)
        self._service()

    def gattc_write(self, conn_handle: int, value_handle: int, data: Any, mode: int = 0) -> None:
        """``BLE.gattc_write(conn_handle, value_handle, data, mode=0)``: mode 0 without
        response, 1 with response (``_IRQ_GATTC_WRITE_DONE``); cut to ATT_MTU-3."""
        client = self._client(conn_handle)
        conn, handle = int(conn_handle), int(value_handle)
        value = buffer_bytes(data)[: client.bearer.mtu - 3]
        if mode == 0:
            try:
                client.write_without_response(handle, value, self._now)
            except AttLocalError:
                raise_errno(EINVAL)
        elif mode == 1:
            done_handle = handle if self._nimble else 0

            def done(outcome: None | AttError) -> None:
                self._irq.post(IRQ.GATTC_WRITE_DONE, (conn, done_handle, self._status(outcome)))

            try:
                client.write(handle, value, self._now, done)
            except AttLocalError:
                raise_errno(EINVAL)
        else:
            raise_errno(EINVAL)
        self._service()

    def gattc_exchange_mtu(self, conn_handle: int) -> None:
        """``BLE.gattc_exchange_mtu(conn_handle)`` with the MTU of ``config('mtu')``."""
        client = self._client(conn_handle)
        bearer = client.bearer
        if bearer.mtu_exchange_requested:
            raise_errno(EALREADY)
        bearer.local_mtu = self._mtu
        try:
            client.exchange_mtu(self._now, None)
        except AttLocalError:
            raise_errno(EALREADY)
        self._service()

    # -- host events ----------------------------------------------------------------------

    def _ev_notification(self, e: Notification) -> None:
        if e.handle in self._conns:
            self._irq.post(IRQ.GATTC_NOTIFY, (e.handle, e.attribute_handle, Buf(e.value)))

    def _ev_indication(self, e: Indication) -> None:
        if e.handle in self._conns:
            self._irq.post(IRQ.GATTC_INDICATE, (e.handle, e.attribute_handle, Buf(e.value)))

    def _ev_mtu(self, e: MtuExchanged) -> None:
        # NimBLE raises BLE_GAP_EVENT_MTU on both sides at every completed exchange, even
        # one that leaves ATT_MTU at 23.
        if e.handle in self._conns:
            self._irq.post(IRQ.MTU_EXCHANGED, (e.handle, e.mtu))
