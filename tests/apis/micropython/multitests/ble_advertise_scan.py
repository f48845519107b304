# Advertising and scanning: ADV_IND (adv_type 0) when connectable, ADV_SCAN_IND (2, as
# NimBLE uses for connectable=False), SCAN_RSP (4) with an active scan, adv_data=None
# reusing the previous payload, _IRQ_SCAN_DONE at the end of each scan, and no reports
# once advertising has stopped.
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)

ADV_DATA = b"\x02\x01\x06\x0b\x09blesim-adv"
RESP_DATA = b"\x07\xffblesim"

pending = {}
seen = {}


def irq(event, data):
    if event == _IRQ_SCAN_RESULT:
        addr_type, addr, adv_type, rssi, adv_data = data
        if addr_type == BDADDR[0] and bytes(addr) == BDADDR[1]:
            seen[adv_type] = bytes(adv_data)
    elif event == _IRQ_SCAN_DONE:
        print("_IRQ_SCAN_DONE")
        pending[event] = True


def wait_for_irq(event, timeout_ms=TIMEOUT_MS):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < timeout_ms:
        if event in pending:
            return pending.pop(event)
        machine.idle()
    raise ValueError("no event {} within {} ms".format(event, timeout_ms))


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Broadcaster: four advertising modes, one per scan of the observer.
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    multitest.next()
    try:
        print("gap_advertise connectable")
        ble.gap_advertise(20_000, ADV_DATA)
        time.sleep_ms(100)
        multitest.broadcast("connectable")
        multitest.wait("next")
        print("gap_advertise connectable=False, same data")
        ble.gap_advertise(20_000, None, connectable=False)
        time.sleep_ms(100)
        multitest.broadcast("scannable")
        multitest.wait("next")
        print("gap_advertise with resp_data")
        ble.gap_advertise(20_000, resp_data=RESP_DATA)
        time.sleep_ms(100)
        multitest.broadcast("with response")
        multitest.wait("next")
        print("gap_advertise None")
        ble.gap_advertise(None)
        time.sleep_ms(100)
        multitest.broadcast("stopped")
        multitest.wait("next")
    finally:
        ble.active(0)


# Observer: one 600 ms scan (continuous window) per mode.
def instance1():
    multitest.next()
    try:
        for phase, active in (("connectable", False), ("scannable", False), ("with response", True),
                              ("stopped", False)):
            multitest.wait(phase)
            seen.clear()
            ble.gap_scan(600, 30_000, 30_000, active)
            wait_for_irq(_IRQ_SCAN_DONE)
            print(phase, "adv types:", sorted(seen))
            for adv_type in sorted(seen):
                print(adv_type, seen[adv_type])
            multitest.broadcast("next")
    finally:
        ble.active(0)
