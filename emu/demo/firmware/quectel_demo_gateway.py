# A QuecPython gateway for the bundled demo: it scans passively and reports every device
# it hears, once each (the module's default scan filter), with name, address and RSSI.
import ble
import utime


def on_event(args):
    event_id, status = args[0], args[1]
    if event_id == 0 and status == 0:
        ble.setScanParam(0, 0x60, 0x30, 0, 0)  # passive, 60 ms interval, 30 ms window
        ble.scanStart()
    elif event_id == 19:
        name = args[3] or "?"
        addr = ":".join("{:02x}".format(b) for b in reversed(args[5]))
        print("gateway heard {} at {} rssi {}".format(name, addr, args[6]))


ble.clientInit(on_event)
ble.gattStart()
while True:
    utime.sleep(1)
