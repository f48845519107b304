"""``_bleio.Connection``: one link to a peer, and discovery of its GATT server.

Theory of operation
-------------------
:func:`connection_for` makes one :class:`Connection` per link, so ``adapter.connect()``
and ``adapter.connections`` return the same object (adafruit_ble keys a dict with it).
Once the link is gone, the methods that need it raise ``ConnectionError("Connection has
been disconnected and can no longer be used. Create a new connection.")``.

* ``pair(bond=True)`` asks the host to pair (central) or to send a Security Request
  (peripheral) and blocks until the link is encrypted and the key distribution is over
  (as the SoftDevice's ``BLE_GAP_EVT_AUTH_STATUS``), or the pairing fails
  (``SecurityError`` with the SoftDevice's status). ``bond=False`` pairs with
  Bonding_Flags "No Bonding": the link is encrypted, no keys are distributed and no bond
  is stored on either side, so a new connection is unencrypted until paired again.
  A central that reconnects to a bonded peer encrypts with the bond's key on its own
  (``connect``); ``pair()`` waits for that first and returns if it succeeded.
* ``connection_interval`` is in milliseconds (a multiple of 1.25 ms); reading it waits
  while an update is in progress; setting it asks for that interval (min = max).
* ``discover_remote_services`` discovers services (all, or one discovery by UUID per
  whitelist entry), then characteristics of services whose UUID the node knows, then
  descriptors of characteristics whose UUID it knows, and returns remote
  :class:`~.gatt.Service` objects (see :mod:`.gatt` for what "knows" means).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from host.gatt_client import GattClient
from host.gatt_db import CCCD_UUID
from host.hci import LocalError
from phy.units import MS

from .errors import (
    DISCONNECTED_CONNECTION,
    NOT_CONNECTED,
    BluetoothError,
    ConnectionError,
    security_error,
)
from .gatt import Characteristic, Descriptor, Service
from .node import BleioNode, LinkState
from .values import UUID

if TYPE_CHECKING:
    from host.gatt_db import CharacteristicInfo, DescriptorInfo, ServiceInfo

__all__ = ["Connection", "connection_for"]

#: How long ``connection_interval`` waits for an update in progress.
INTERVAL_UPDATE_WAIT_NS = 5_000 * MS


class Connection:
    """A connection to another device (always the same object for a link)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("cannot create 'Connection' instances")

    _node: BleioNode
    _link: LinkState

    @classmethod
    def _make(cls, node: BleioNode, link: LinkState) -> Connection:
        connection = cls.__new__(cls)
        connection._node = node
        connection._link = link
        return connection

    def _ensure_connected(self) -> LinkState:
        if not self._link.connected:
            raise ConnectionError(DISCONNECTED_CONNECTION)
        return self._link

    @property
    def connected(self) -> bool:
        """True while connected (reading it lets simulated time advance)."""
        self._node.poll()
        return self._link.connected

    @property
    def paired(self) -> bool:
        return self._link.connected and self._link.paired

    def pair(self, *, bond: bool = True) -> None:
        """Pair (encrypt the link), bonding unless ``bond`` is false; blocks until done,
        ``SecurityError`` if it fails."""
        link = self._ensure_connected()
        node = self._node
        # Encryption with a bond's key, started by connect(), settles first.
        node.wait_until(lambda: not link.encrypting or not link.connected, None)
        link = self._ensure_connected()
        if link.paired:
            return
        link.pairing = True
        link.pair_result = None
        try:
            node.host.pair(link.handle, node.now, bonding=bool(bond))
        except Exception as exc:
            link.pairing = False
            raise BluetoothError("Invalid state") from exc
        node.service()
        try:
            node.wait_until(lambda: link.pair_result is not None or not link.connected, None)
            if link.pair_result is not None and link.pair_result[0]:
                # Encrypted: wait for the key distribution (and the bond) to finish.
                node.wait_until(lambda: not link.connected or not _smp_busy(node, link.handle), None)
                if not link.connected:
                    link.pair_result = None
        finally:
            link.pairing = False
        if link.pair_result is None:
            raise ConnectionError(NOT_CONNECTED)
        ok, reason, timed_out = link.pair_result
        if not ok:
            raise security_error(reason, timed_out)

    @property
    def connection_interval(self) -> float:
        """Time between connection events, milliseconds (a multiple of 1.25 ms)."""
        link = self._ensure_connected()
        self._node.wait_until(lambda: not link.updating or not link.connected, INTERVAL_UPDATE_WAIT_NS)
        return link.interval_ns / 1_000_000

    @connection_interval.setter
    def connection_interval(self, value: float) -> None:
        link = self._ensure_connected()
        units = int(float(value) / 1.25)
        self._node.request_interval(link, units * 1_250_000)

    @property
    def max_packet_length(self) -> int:
        """Data octets of one notification: ATT_MTU - 3."""
        return self._ensure_connected().mtu - 3

    def disconnect(self) -> None:
        """Disconnect (does not wait)."""
        link = self._link
        if link.connected:
            try:
                self._node.host.disconnect(link.handle, self._node.now)
            except LocalError:
                return
            self._node.service()

    def discover_remote_services(self, service_uuids_whitelist: Any = None) -> tuple[Service, ...]:
        """Discover the peer's services (all, or those of the whitelist), their
        characteristics and descriptors; blocks on simulated time."""
        link = self._ensure_connected()
        node = self._node
        uuids: list[UUID] | None = None
        if service_uuids_whitelist is not None:
            uuids = []
            for item in service_uuids_whitelist:
                if not isinstance(item, UUID):
                    raise TypeError("non-UUID found in service_uuids_whitelist")
                uuids.append(item)
        infos: list[ServiceInfo] = []
        if uuids is None:
            infos = node.gatt_call(link, lambda c, now, done: c.discover_primary_services(now, None, done))
        else:
            for uuid in uuids:
                infos += node.gatt_call(link, _discover_services(uuid))
        service_cls = _node_class(node, "Service", Service)
        uuid_cls = _node_class(node, "UUID", UUID)
        services = []
        for info in infos:
            service = service_cls._make_remote(node, self, uuid_cls._from_host(info.uuid), info)
            services.append(service)
            if service.uuid is None:
                continue
            chars: list[CharacteristicInfo] = node.gatt_call(link, _discover_characteristics(info))
            for char_info in chars:
                char = Characteristic._make_remote(service, char_info, uuid_cls._from_host(char_info.uuid))
                service._characteristics.append(char)
                if char.uuid is None or char_info.end_handle <= char_info.value_handle:
                    continue
                descs: list[DescriptorInfo] = node.gatt_call(link, _discover_descriptors(char_info))
                for desc_info in descs:
                    if desc_info.uuid == CCCD_UUID:
                        char._cccd_handle = desc_info.handle
                    char._descriptors.append(
                        Descriptor._make_remote(char, desc_info, uuid_cls._from_host(desc_info.uuid))
                    )
        return tuple(services)

    def __repr__(self) -> str:
        return "<Connection>"


_Start = Callable[[GattClient, int, Callable[[Any], None]], object]


def _discover_services(uuid: UUID) -> _Start:
    wanted = uuid._to_host()
    return lambda client, now, done: client.discover_primary_services(now, wanted, done)


def _discover_characteristics(info: ServiceInfo) -> _Start:
    return lambda client, now, done: client.discover_characteristics(info, now, None, done)


def _discover_descriptors(info: CharacteristicInfo) -> _Start:
    return lambda client, now, done: client.discover_descriptors(info, now, done)


def _smp_busy(node: BleioNode, handle: int) -> bool:
    """Whether the Security Manager of ``handle`` is still in a pairing."""
    try:
        return node.host.smp(handle).pairing_in_progress
    except LocalError:
        return False


def _node_class(node: BleioNode, name: str, default: type[Any]) -> Any:
    """The node's subclass of a ``_bleio`` class (set by the module factory)."""
    return node.classes.get(name, default)


def connection_for(node: BleioNode, link: LinkState) -> Connection:
    """The one :class:`Connection` of ``link``."""
    if link.obj is None:
        link.obj = Connection._make(node, link)
    connection: Connection = link.obj
    return connection

