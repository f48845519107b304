# CircuitPython UART echo client (adafruit_ble, in the style of Adafruit's
# ble_uart_echo_client.py): scan for a peripheral providing the Nordic UART Service,
# connect, write b"echo" once a second and print what comes back.
import time

from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.nordic import UARTService

ble = BLERadio()
while True:
    while ble.connected and any(UARTService in connection for connection in ble.connections):
        for connection in ble.connections:
            if UARTService not in connection:
                continue
            uart = connection[UARTService]
            print("sending echo")
            uart.write(b"echo")
            # Ask for the 4 bytes we expect back (1 s timeout).
            reply = uart.read(4)
            if reply:
                print("received", reply)
        time.sleep(1)

    print("disconnected, scanning")
    for advertisement in ble.start_scan(ProvideServicesAdvertisement, timeout=1):
        if UARTService not in advertisement.services:
            continue
        ble.connect(advertisement)
        print("connected")
        break
    ble.stop_scan()
