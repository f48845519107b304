# A MicroPython central in the style of MicroPython's
# examples/bluetooth/ble_temperature_central.py: it scans for a device advertising the
# Environmental Sensing service (0x181A), connects, discovers the service, its
# Temperature characteristic (0x2A6E) and that characteristic's CCCD, reads the value
# every two seconds and subscribes to its notifications.

import struct
import time

import bluetooth
from ble_advertising import decode_name, decode_services
from micropython import const

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

_ADV_IND = const(0x00)
_ADV_DIRECT_IND = const(0x01)

_ENV_SENSE_UUID = bluetooth.UUID(0x181A)
_TEMP_UUID = bluetooth.UUID(0x2A6E)
_CCCD_UUID = bluetooth.UUID(0x2902)


class BLETemperatureCentral:
    def __init__(self, ble):
        self._ble = ble
        self._ble.active(True)
        self._ble.irq(self._irq)
        self._reset()

    def _reset(self):
        self._name = None
        self._addr_type = None
        self._addr = None
        self._value = None
        self._scan_callback = None
        self._conn_callback = None
        self._read_callback = None
        self._notify_callback = None
        self._conn_handle = None
        self._start_handle = None
        self._end_handle = None
        self._value_handle = None
        self._char_end_handle = None
        self._cccd_handle = None

    def _irq(self, event, data):
        if event == _IRQ_SCAN_RESULT:
            addr_type, addr, adv_type, rssi, adv_data = data
            if adv_type in (_ADV_IND, _ADV_DIRECT_IND) and _ENV_SENSE_UUID in decode_services(adv_data):
                # Found a potential device, remember it and stop scanning.
                self._addr_type = addr_type
                self._addr = bytes(addr)  # the memoryview is only valid during the IRQ
                self._name = decode_name(adv_data) or "?"
                self._ble.gap_scan(None)
        elif event == _IRQ_SCAN_DONE:
            if self._scan_callback:
                if self._addr:
                    self._scan_callback(self._addr_type, self._addr, self._name)
                    self._scan_callback = None
                else:
                    self._scan_callback(None, None, None)
        elif event == _IRQ_PERIPHERAL_CONNECT:
            conn_handle, addr_type, addr = data
            if addr_type == self._addr_type and addr == self._addr:
                self._conn_handle = conn_handle
                self._ble.gattc_discover_services(self._conn_handle)
        elif event == _IRQ_PERIPHERAL_DISCONNECT:
            conn_handle, _, _ = data
            if conn_handle == self._conn_handle:
                self._reset()
                print("disconnected")
        elif event == _IRQ_GATTC_SERVICE_RESULT:
            conn_handle, start_handle, end_handle, uuid = data
            if conn_handle == self._conn_handle and uuid == _ENV_SENSE_UUID:
                self._start_handle, self._end_handle = start_handle, end_handle
        elif event == _IRQ_GATTC_SERVICE_DONE:
            if self._start_handle and self._end_handle:
                self._ble.gattc_discover_characteristics(self._conn_handle, self._start_handle, self._end_handle)
            else:
                print("failed to find environmental sensing service")
        elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
            conn_handle, end_handle, value_handle, properties, uuid = data
            if conn_handle == self._conn_handle and uuid == _TEMP_UUID:
                self._value_handle = value_handle
                self._char_end_handle = end_handle
        elif event == _IRQ_GATTC_CHARACTERISTIC_DONE:
            if self._value_handle:
                self._ble.gattc_discover_descriptors(self._conn_handle, self._value_handle, self._char_end_handle)
            else:
                print("failed to find temperature characteristic")
        elif event == _IRQ_GATTC_DESCRIPTOR_RESULT:
            conn_handle, dsc_handle, uuid = data
            if uuid == _CCCD_UUID:
                self._cccd_handle = dsc_handle
        elif event == _IRQ_GATTC_DESCRIPTOR_DONE:
            # Service, characteristic and CCCD found: ready.
            if self._conn_callback:
                self._conn_callback()
        elif event == _IRQ_GATTC_READ_RESULT:
            conn_handle, value_handle, char_data = data
            if conn_handle == self._conn_handle and value_handle == self._value_handle:
                self._update_value(char_data)
                if self._read_callback:
                    self._read_callback(self._value)
                    self._read_callback = None
        elif event == _IRQ_GATTC_READ_DONE:
            conn_handle, value_handle, status = data
            if status:
                print("read failed, status", status)
        elif event == _IRQ_GATTC_WRITE_DONE:
            conn_handle, value_handle, status = data
            print("subscribed, status", status)
        elif event in (_IRQ_GATTC_NOTIFY, _IRQ_GATTC_INDICATE):
            conn_handle, value_handle, notify_data = data
            if conn_handle == self._conn_handle and value_handle == self._value_handle:
                self._update_value(notify_data)
                if self._notify_callback:
                    self._notify_callback(self._value, event == _IRQ_GATTC_INDICATE)

    def is_connected(self):
        return self._conn_handle is not None and self._cccd_handle is not None

    def scan(self, callback=None):
        self._addr_type = None
        self._addr = None
        self._scan_callback = callback
        self._ble.gap_scan(2000, 30000, 30000)

    def connect(self, addr_type=None, addr=None, callback=None):
        self._addr_type = addr_type or self._addr_type
        self._addr = addr or self._addr
        self._conn_callback = callback
        if self._addr_type is None:
            return False
        self._ble.gap_connect(self._addr_type, self._addr)
        return True

    def read(self, callback):
        if not self.is_connected():
            return
        self._read_callback = callback
        self._ble.gattc_read(self._conn_handle, self._value_handle)

    def subscribe(self, callback):
        self._notify_callback = callback
        # 0x0001 in the CCCD enables notifications (indications arrive regardless).
        self._ble.gattc_write(self._conn_handle, self._cccd_handle, struct.pack("<H", 1), 1)

    def _update_value(self, data):
        self._value = struct.unpack("<h", data)[0] / 100
        return self._value


def demo():
    ble = bluetooth.BLE()
    central = BLETemperatureCentral(ble)
    not_found = False

    def on_scan(addr_type, addr, name):
        nonlocal not_found
        if addr_type is not None:
            print("found sensor:", name)
            central.connect(callback=lambda: print("connected, temperature handle found"))
        else:
            not_found = True
            print("no sensor found")

    central.scan(callback=on_scan)
    while not central.is_connected():
        time.sleep_ms(100)
        if not_found:
            return
    central.subscribe(lambda value, indicated: print("%s: %.2f C" % ("indicated" if indicated else "notified", value)))
    while central.is_connected():
        central.read(callback=lambda value: print("read: %.2f C" % value))
        time.sleep_ms(2000)
    print("done")


demo()
