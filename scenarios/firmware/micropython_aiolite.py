# An aioble-style asyncio layer over MicroPython's `bluetooth` module, written for
# blesim's examples and tests (micropython-lib's aioble is not on PyPI). It uses only the
# asyncio names real aioble uses: ThreadSafeFlag (module-level, set from the IRQ
# handler), create_task, current_task, sleep_ms, CancelledError and TimeoutError.
#
#   import micropython_aiolite as aioble
#   async with await aioble.advertise(100_000, name="sensor", services=[UUID]) as conn: ...
#   async with aioble.scan(5000, active=True) as scanner:
#       async for result in scanner: ...
#   connection = await result.device.connect()
#   service = await connection.service(UUID); char = await service.characteristic(UUID)
#   await char.write(b"go", response=True); data = await char.notified(timeout_ms=1000)

import asyncio
import struct

import bluetooth
from micropython import const

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_GATTC_SERVICE_RESULT = const(9)
_IRQ_GATTC_SERVICE_DONE = const(10)
_IRQ_GATTC_CHARACTERISTIC_RESULT = const(11)
_IRQ_GATTC_CHARACTERISTIC_DONE = const(12)
_IRQ_GATTC_DESCRIPTOR_RESULT = const(13)
_IRQ_GATTC_DESCRIPTOR_DONE = const(14)
_IRQ_GATTC_READ_RESULT = const(15)
_IRQ_GATTC_READ_DONE = const(16)
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)
_IRQ_GATTC_INDICATE = const(19)
_IRQ_GATTS_INDICATE_DONE = const(20)

_FLAG_READ = const(0x0002)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_INDICATE = const(0x0020)

_ADV_TYPE_FLAGS = const(0x01)
_ADV_TYPE_UUID16_MORE = const(0x02)
_ADV_TYPE_UUID16_COMPLETE = const(0x03)
_ADV_TYPE_UUID128_MORE = const(0x06)
_ADV_TYPE_UUID128_COMPLETE = const(0x07)
_ADV_TYPE_NAME_SHORT = const(0x08)
_ADV_TYPE_NAME = const(0x09)
_ADV_SCAN_RSP = const(4)
_CCCD = bluetooth.UUID(0x2902)

# As aioble's core: the BLE singleton and its IRQ handler are set up at import.
ble = bluetooth.BLE()
_handlers = []


def _irq(event, data):
    for handler in _handlers:
        result = handler(event, data)
        if result is not None:
            return result


ble.irq(_irq)


def ensure_active():
    if not ble.active():
        ble.active(True)


class GattError(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


class DeviceDisconnectedError(Exception):
    pass


class DeviceTimeout:
    """Cancel the current task after timeout_ms; turn that into asyncio.TimeoutError
    (or DeviceDisconnectedError when the connection went away meanwhile)."""

    def __init__(self, connection, timeout_ms):
        self._connection = connection
        self._task = asyncio.current_task()
        self._timer = None
        if connection is not None:
            connection._waiters.append(self)
        if timeout_ms:
            self._timer = asyncio.create_task(self._expire(timeout_ms))

    async def _expire(self, timeout_ms):
        try:
            await asyncio.sleep_ms(timeout_ms)
        except asyncio.CancelledError:
            return
        self._timer = None
        self._task.cancel()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._connection is not None and self in self._connection._waiters:
            self._connection._waiters.remove(self)
        if self._timer is not None:
            self._timer.cancel()
        if exc_type is asyncio.CancelledError:
            if self._connection is not None and self._connection._conn_handle is None:
                raise DeviceDisconnectedError()
            raise asyncio.TimeoutError()


def _hex(addr):
    return ":".join("{:02x}".format(b) for b in addr)


class Device:
    def __init__(self, addr_type, addr):
        self.addr_type = addr_type
        self.addr = bytes(addr)

    def __eq__(self, other):
        return isinstance(other, Device) and (self.addr_type, self.addr) == (other.addr_type, other.addr)

    def __hash__(self):
        return hash((self.addr_type, self.addr))

    def __repr__(self):
        return "Device({}, {})".format(self.addr_type, _hex(self.addr))

    async def connect(self, timeout_ms=10000):
        return await _central_connect(self, timeout_ms)


class DeviceConnection:
    _connected = {}

    def __init__(self, device):
        self.device = device
        self._conn_handle = None
        self._flag = asyncio.ThreadSafeFlag()
        self._waiters = []
        self._results = None
        self._status = None
        self._characteristics = {}

    def is_connected(self):
        return self._conn_handle is not None

    def _opened(self, conn_handle):
        self._conn_handle = conn_handle
        DeviceConnection._connected[conn_handle] = self
        self._flag.set()

    def _closed(self):
        DeviceConnection._connected.pop(self._conn_handle, None)
        self._conn_handle = None
        self._flag.set()
        for waiter in list(self._waiters):
            waiter._task.cancel()
        for characteristic in self._characteristics.values():
            characteristic._flag.set()

    async def disconnected(self, timeout_ms=None):
        with DeviceTimeout(None, timeout_ms):
            while self._conn_handle is not None:
                await self._flag.wait()

    async def disconnect(self, timeout_ms=2000):
        if self._conn_handle is not None:
            ble.gap_disconnect(self._conn_handle)
        await self.disconnected(timeout_ms)

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        await self.disconnect()

    async def _operation(self, start, timeout_ms):
        """Start one GATT client procedure and wait for its DONE event."""
        if self._conn_handle is None:
            raise DeviceDisconnectedError()
        self._results = []
        self._status = None
        start(self._conn_handle)
        with DeviceTimeout(self, timeout_ms):
            while self._status is None:
                await self._flag.wait()
        results, self._results = self._results, None
        if self._status != 0:
            raise GattError(self._status)
        return results

    async def service(self, uuid, timeout_ms=2000):
        found = await self._operation(lambda c: ble.gattc_discover_services(c, uuid), timeout_ms)
        for start, end, found_uuid in found:
            if found_uuid == uuid:
                return ClientService(self, start, end, found_uuid)
        return None


# -- peripheral ---------------------------------------------------------------------------

_incoming = None
_incoming_flag = asyncio.ThreadSafeFlag()


def advertising_payload(name=None, services=None, appearance=None):
    payload = bytearray()

    def add(adv_type, value):
        payload.extend(struct.pack("BB", len(value) + 1, adv_type))
        payload.extend(value)

    add(_ADV_TYPE_FLAGS, b"\x06")
    if name:
        add(_ADV_TYPE_NAME, name.encode())
    for uuid in services or ():
        raw = bytes(uuid)
        add(_ADV_TYPE_UUID16_COMPLETE if len(raw) == 2 else _ADV_TYPE_UUID128_COMPLETE, raw)
    if appearance is not None:
        add(0x19, struct.pack("<H", appearance))
    return bytes(payload)


async def advertise(interval_us, adv_data=None, resp_data=None, connectable=True, timeout_ms=None,
                    name=None, services=None):
    """Advertise until a central connects; returns the DeviceConnection."""
    global _incoming
    ensure_active()
    if adv_data is None:
        adv_data = advertising_payload(name, services)
    _incoming = None
    _incoming_flag.clear()
    ble.gap_advertise(interval_us, adv_data=adv_data, resp_data=resp_data, connectable=connectable)
    try:
        with DeviceTimeout(None, timeout_ms):
            while _incoming is None:
                await _incoming_flag.wait()
            connection, _incoming = _incoming, None
            return connection
    finally:
        ble.gap_advertise(None)


def _peripheral_irq(event, data):
    global _incoming
    if event == _IRQ_CENTRAL_CONNECT:
        conn_handle, addr_type, addr = data
        connection = DeviceConnection(Device(addr_type, addr))
        connection._opened(conn_handle)
        _incoming = connection
        _incoming_flag.set()
    elif event == _IRQ_CENTRAL_DISCONNECT:
        conn_handle, _, _ = data
        connection = DeviceConnection._connected.get(conn_handle)
        if connection is not None:
            connection._closed()


_handlers.append(_peripheral_irq)


# -- central ------------------------------------------------------------------------------

def _parse_ad(payload, kinds):
    out = []
    i = 0
    while i + 1 < len(payload):
        length = payload[i]
        if length == 0 or i + 1 + length > len(payload):
            break
        if payload[i + 1] in kinds:
            out.append(bytes(payload[i + 2:i + 1 + length]))
        i += 1 + length
    return out


class ScanResult:
    def __init__(self, device):
        self.device = device
        self.adv_data = None
        self.resp_data = None
        self.rssi = None
        self.connectable = False

    def _payloads(self):
        return [p for p in (self.adv_data, self.resp_data) if p]

    def name(self):
        for payload in self._payloads():
            for value in _parse_ad(payload, (_ADV_TYPE_NAME, _ADV_TYPE_NAME_SHORT)):
                return value.decode()
        return None

    def services(self):
        found = []
        for payload in self._payloads():
            for value in _parse_ad(payload, (_ADV_TYPE_UUID16_MORE, _ADV_TYPE_UUID16_COMPLETE)):
                for j in range(0, len(value) - 1, 2):
                    found.append(bluetooth.UUID(struct.unpack("<H", value[j:j + 2])[0]))
            for value in _parse_ad(payload, (_ADV_TYPE_UUID128_MORE, _ADV_TYPE_UUID128_COMPLETE)):
                for j in range(0, len(value) - 15, 16):
                    found.append(bluetooth.UUID(value[j:j + 16]))
        return found


_scanner = None


class scan:
    """`async with scan(...) as scanner: async for result in scanner:` (results are
    yielded when a device is first seen and when its data changes)."""

    def __init__(self, duration_ms, interval_us=None, window_us=None, active=False):
        self._args = (duration_ms, interval_us or 1_280_000, window_us or 11_250, active)
        self._queue = []
        self._seen = {}
        self._done = False
        self._flag = asyncio.ThreadSafeFlag()

    async def __aenter__(self):
        global _scanner
        ensure_active()
        _scanner = self
        ble.gap_scan(*self._args)
        return self

    async def __aexit__(self, exc_type, exc, tb):
        global _scanner
        if not self._done:
            ble.gap_scan(None)
            while not self._done:
                await self._flag.wait()
        _scanner = None

    def __aiter__(self):
        return self

    async def __anext__(self):
        while not self._queue and not self._done:
            await self._flag.wait()
        if self._queue:
            return self._queue.pop(0)
        raise StopAsyncIteration

    def _report(self, addr_type, addr, adv_type, rssi, adv_data):
        device = Device(addr_type, addr)
        result = self._seen.get(device)
        if result is None:
            result = self._seen[device] = ScanResult(device)
        data = bytes(adv_data)
        changed = False
        if adv_type == _ADV_SCAN_RSP:
            changed, result.resp_data = result.resp_data != data, data
        else:
            changed, result.adv_data = result.adv_data != data, data
            result.connectable = adv_type in (0, 1)
        result.rssi = rssi
        if changed and result not in self._queue:
            self._queue.append(result)
            self._flag.set()


_connecting = None


async def _central_connect(device, timeout_ms):
    global _connecting
    ensure_active()
    if _connecting is not None:
        raise ValueError("already connecting")
    connection = DeviceConnection(device)
    _connecting = connection
    try:
        ble.gap_connect(device.addr_type, device.addr, timeout_ms)
        with DeviceTimeout(None, timeout_ms + 1000):
            while connection._conn_handle is None and _connecting is connection:
                await connection._flag.wait()
        if connection._conn_handle is None:
            raise asyncio.TimeoutError()
        return connection
    finally:
        _connecting = None


def _central_irq(event, data):
    global _connecting
    if event == _IRQ_SCAN_RESULT:
        if _scanner is not None:
            _scanner._report(*data)
    elif event == _IRQ_SCAN_DONE:
        if _scanner is not None:
            _scanner._done = True
            _scanner._flag.set()
    elif event == _IRQ_PERIPHERAL_CONNECT:
        conn_handle, _, _ = data
        if _connecting is not None:
            _connecting._opened(conn_handle)
    elif event == _IRQ_PERIPHERAL_DISCONNECT:
        conn_handle, _, _ = data
        if conn_handle == 65535 and _connecting is not None:  # gap_connect timed out
            connection, _connecting = _connecting, None
            connection._flag.set()
            return
        connection = DeviceConnection._connected.get(conn_handle)
        if connection is not None:
            connection._closed()


_handlers.append(_central_irq)


# -- GATT server ----------------------------------------------------------------------------

_by_handle = {}


class Service:
    def __init__(self, uuid):
        self.uuid = uuid
        self.characteristics = []


class Characteristic:
    def __init__(self, service, uuid, read=False, write=False, write_no_response=False,
                 notify=False, indicate=False, initial=None):
        self.uuid = uuid
        self.flags = ((_FLAG_READ if read else 0) | (_FLAG_WRITE if write else 0)
                      | (_FLAG_WRITE_NO_RESPONSE if write_no_response else 0)
                      | (_FLAG_NOTIFY if notify else 0) | (_FLAG_INDICATE if indicate else 0))
        self._initial = initial
        self._value_handle = None
        self._flag = asyncio.ThreadSafeFlag()  # module level: no event loop needed yet
        self._writer = None
        self._indicated = None
        service.characteristics.append(self)

    def read(self):
        return ble.gatts_read(self._value_handle)

    def write(self, data, send_update=False):
        ble.gatts_write(self._value_handle, data, send_update)

    async def written(self, timeout_ms=None):
        """Wait for a client's write; returns its DeviceConnection."""
        with DeviceTimeout(None, timeout_ms):
            while self._writer is None:
                await self._flag.wait()
            writer, self._writer = self._writer, None
            return writer

    def notify(self, connection, data=None):
        ble.gatts_notify(connection._conn_handle, self._value_handle, data)

    async def indicate(self, connection, timeout_ms=1000):
        self._indicated = None
        ble.gatts_indicate(connection._conn_handle, self._value_handle)
        with DeviceTimeout(connection, timeout_ms):
            while self._indicated is None:
                await self._flag.wait()
        if self._indicated != 0:
            raise GattError(self._indicated)


def register_services(*services):
    ensure_active()
    definition = [(s.uuid, tuple((c.uuid, c.flags) for c in s.characteristics)) for s in services]
    for service, handles in zip(services, ble.gatts_register_services(definition)):
        for characteristic, handle in zip(service.characteristics, handles):
            characteristic._value_handle = handle
            _by_handle[handle] = characteristic
            if characteristic._initial is not None:
                ble.gatts_write(handle, characteristic._initial)


def _server_irq(event, data):
    if event == _IRQ_GATTS_WRITE:
        conn_handle, attr_handle = data
        characteristic = _by_handle.get(attr_handle)
        if characteristic is not None:
            characteristic._writer = DeviceConnection._connected.get(conn_handle)
            characteristic._flag.set()
    elif event == _IRQ_GATTS_INDICATE_DONE:
        conn_handle, value_handle, status = data
        characteristic = _by_handle.get(value_handle)
        if characteristic is not None:
            characteristic._indicated = status
            characteristic._flag.set()


_handlers.append(_server_irq)


# -- GATT client ----------------------------------------------------------------------------

class ClientService:
    def __init__(self, connection, start, end, uuid):
        self.connection = connection
        self.start = start
        self.end = end
        self.uuid = uuid

    async def characteristic(self, uuid, timeout_ms=2000):
        connection = self.connection
        found = await connection._operation(
            lambda c: ble.gattc_discover_characteristics(c, self.start, self.end), timeout_ms)
        for end_handle, value_handle, properties, found_uuid in found:
            if found_uuid == uuid:
                return ClientCharacteristic(connection, value_handle, end_handle, properties, found_uuid)
        return None


class ClientCharacteristic:
    def __init__(self, connection, value_handle, end_handle, properties, uuid):
        self.connection = connection
        self.value_handle = value_handle
        self.end_handle = end_handle
        self.properties = properties
        self.uuid = uuid
        self._flag = asyncio.ThreadSafeFlag()
        self._notified = []
        self._cccd = None
        connection._characteristics[value_handle] = self

    async def read(self, timeout_ms=1000):
        results = await self.connection._operation(
            lambda c: ble.gattc_read(c, self.value_handle), timeout_ms)
        return results[0] if results else b""

    async def write(self, data, response=False, timeout_ms=1000):
        if not response:
            ble.gattc_write(self.connection._conn_handle, self.value_handle, data, 0)
            return
        await self.connection._operation(
            lambda c: ble.gattc_write(c, self.value_handle, data, 1), timeout_ms)

    async def subscribe(self, notify=True, indicate=False, timeout_ms=1000):
        if self._cccd is None:
            found = await self.connection._operation(
                lambda c: ble.gattc_discover_descriptors(c, self.value_handle, self.end_handle), timeout_ms)
            for handle, uuid in found:
                if uuid == _CCCD:
                    self._cccd = handle
                    break
            else:
                raise GattError(0x10A)
        value = (1 if notify else 0) | (2 if indicate else 0)
        await self.connection._operation(
            lambda c: ble.gattc_write(c, self._cccd, struct.pack("<H", value), 1), timeout_ms)

    async def notified(self, timeout_ms=None):
        """The next notified (or indicated) value."""
        with DeviceTimeout(self.connection, timeout_ms):
            while not self._notified:
                if not self.connection.is_connected():
                    raise DeviceDisconnectedError()
                await self._flag.wait()
            return self._notified.pop(0)


def _client_irq(event, data):
    if event in (_IRQ_GATTC_SERVICE_RESULT, _IRQ_GATTC_CHARACTERISTIC_RESULT, _IRQ_GATTC_DESCRIPTOR_RESULT):
        connection = DeviceConnection._connected.get(data[0])
        if connection is not None and connection._results is not None:
            values = list(data[1:])
            values[-1] = bluetooth.UUID(values[-1])  # copy: the IRQ's memoryview goes away
            connection._results.append(tuple(values))
    elif event == _IRQ_GATTC_READ_RESULT:
        conn_handle, value_handle, char_data = data
        connection = DeviceConnection._connected.get(conn_handle)
        if connection is not None and connection._results is not None:
            connection._results.append(bytes(char_data))
    elif event in (_IRQ_GATTC_SERVICE_DONE, _IRQ_GATTC_CHARACTERISTIC_DONE, _IRQ_GATTC_DESCRIPTOR_DONE,
                   _IRQ_GATTC_READ_DONE, _IRQ_GATTC_WRITE_DONE):
        connection = DeviceConnection._connected.get(data[0])
        if connection is not None:
            connection._status = data[-1]
            connection._flag.set()
    elif event in (_IRQ_GATTC_NOTIFY, _IRQ_GATTC_INDICATE):
        conn_handle, value_handle, notify_data = data
        connection = DeviceConnection._connected.get(conn_handle)
        if connection is not None:
            characteristic = connection._characteristics.get(value_handle)
            if characteristic is not None:
                characteristic._notified.append(bytes(notify_data))
                characteristic._flag.set()


_handlers.append(_client_irq)
