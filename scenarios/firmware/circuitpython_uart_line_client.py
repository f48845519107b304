# A CircuitPython UART client (adafruit_ble) that finds any peripheral providing the
# Nordic UART Service, sends a few lines and prints each line that comes back. Used
# against the MicroPython NUS peripheral, which answers every line in upper case.
import time

from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.nordic import UARTService

ble = BLERadio()
connection = None
while connection is None:
    for advertisement in ble.start_scan(ProvideServicesAdvertisement, timeout=5):
        if UARTService in advertisement.services:
            print("found", advertisement.complete_name)
            connection = ble.connect(advertisement)
            break
    ble.stop_scan()
print("connected")

uart = connection[UARTService]
for n in range(3):
    uart.write(b"hello circuitpython %d\n" % n)
    line = uart.readline()
    print("got", line)
    time.sleep(0.5)
connection.disconnect()
print("done")
