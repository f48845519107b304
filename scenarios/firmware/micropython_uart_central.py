# A central for the Nordic UART Service in the style of MicroPython's
# examples/bluetooth/ble_simple_central.py: it scans for a device advertising the NUS
# service, connects, finds the service by UUID and its RX and TX characteristics, then
# writes lines to RX (with response) and prints what comes back on TX.

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
_IRQ_GATTC_WRITE_DONE = const(17)
_IRQ_GATTC_NOTIFY = const(18)
_IRQ_MTU_EXCHANGED = const(21)

_ADV_IND = const(0x00)
_ADV_DIRECT_IND = const(0x01)

_UART_SERVICE_UUID = bluetooth.UUID("6E400001-B5A3-F393-E0A9-E50E24DCCA9E")
_UART_RX_CHAR_UUID = bluetooth.UUID("6E400002-B5A3-F393-E0A9-E50E24DCCA9E")
_UART_TX_CHAR_UUID = bluetooth.UUID("6E400003-B5A3-F393-E0A9-E50E24DCCA9E")


class BLESimpleCentral:
    def __init__(self, ble):
        self._ble = ble
        self._ble.active(True)
        self._ble.irq(self._irq)
        self._reset()

    def _reset(self):
        self._name = None
        self._addr_type = None
        self._addr = None
        self._scan_callback = None
        self._conn_callback = None
        self._notify_callback = None
        self._conn_handle = None
        self._start_handle = None
        self._end_handle = None
        self._tx_handle = None
        self._rx_handle = None
        self.writes_done = 0

    def _irq(self, event, data):
        if event == _IRQ_SCAN_RESULT:
            addr_type, addr, adv_type, rssi, adv_data = data
            if adv_type in (_ADV_IND, _ADV_DIRECT_IND) and _UART_SERVICE_UUID in decode_services(adv_data):
                self._addr_type = addr_type
                self._addr = bytes(addr)
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
                self._ble.gattc_discover_services(self._conn_handle, _UART_SERVICE_UUID)
        elif event == _IRQ_PERIPHERAL_DISCONNECT:
            conn_handle, _, _ = data
            if conn_handle == self._conn_handle:
                self._reset()
        elif event == _IRQ_GATTC_SERVICE_RESULT:
            conn_handle, start_handle, end_handle, uuid = data
            if conn_handle == self._conn_handle and uuid == _UART_SERVICE_UUID:
                self._start_handle, self._end_handle = start_handle, end_handle
        elif event == _IRQ_GATTC_SERVICE_DONE:
            if self._start_handle and self._end_handle:
                self._ble.gattc_discover_characteristics(self._conn_handle, self._start_handle, self._end_handle)
            else:
                print("failed to find uart service")
        elif event == _IRQ_GATTC_CHARACTERISTIC_RESULT:
            conn_handle, end_handle, value_handle, properties, uuid = data
            if conn_handle == self._conn_handle and uuid == _UART_RX_CHAR_UUID:
                self._rx_handle = value_handle
            if conn_handle == self._conn_handle and uuid == _UART_TX_CHAR_UUID:
                self._tx_handle = value_handle
        elif event == _IRQ_GATTC_CHARACTERISTIC_DONE:
            if self._tx_handle is not None and self._rx_handle is not None:
                if self._conn_callback:
                    self._conn_callback()
            else:
                print("failed to find uart rx characteristic")
        elif event == _IRQ_GATTC_WRITE_DONE:
            conn_handle, value_handle, status = data
            self.writes_done += 1
        elif event == _IRQ_MTU_EXCHANGED:
            conn_handle, mtu = data
            print("mtu exchanged:", mtu)
        elif event == _IRQ_GATTC_NOTIFY:
            conn_handle, value_handle, notify_data = data
            if conn_handle == self._conn_handle and value_handle == self._tx_handle:
                if self._notify_callback:
                    self._notify_callback(bytes(notify_data))

    def is_connected(self):
        return self._conn_handle is not None and self._tx_handle is not None and self._rx_handle is not None

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

    def disconnect(self):
        if self._conn_handle is None:
            return
        self._ble.gap_disconnect(self._conn_handle)
        self._reset()

    def write(self, v, response=False):
        if not self.is_connected():
            return
        self._ble.gattc_write(self._conn_handle, self._rx_handle, v, 1 if response else 0)

    def exchange_mtu(self):
        self._ble.gattc_exchange_mtu(self._conn_handle)

    def on_notify(self, callback):
        self._notify_callback = callback


def demo():
    ble = bluetooth.BLE()
    central = BLESimpleCentral(ble)
    not_found = False

    def on_scan(addr_type, addr, name):
        nonlocal not_found
        if addr_type is not None:
            print("found peripheral:", name)
            central.connect()
        else:
            not_found = True
            print("no peripheral found")

    central.scan(callback=on_scan)
    while not central.is_connected():
        time.sleep_ms(100)
        if not_found:
            return
    print("connected")
    central.on_notify(lambda data: print("tx:", data.decode().rstrip()))
    for i in range(5):
        central.write("hello %d\n" % i, response=True)
        time.sleep_ms(400)
    # A line longer than one write (ATT_MTU 23 carries 20 octets): sent in two writes,
    # reassembled by the peripheral's append-mode buffer. Its 26-octet echo would be cut
    # to 20 octets, so first agree a larger ATT_MTU (config('mtu') is 256 on both).
    central.exchange_mtu()
    time.sleep_ms(300)
    line = "the quick brown fox jumps\n"
    central.write(line[:20], response=True)
    central.write(line[20:], response=True)
    time.sleep_ms(1000)
    print("writes acknowledged:", central.writes_done)
    central.disconnect()
    print("disconnected")


demo()
