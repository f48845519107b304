# CircuitPython UART echo peripheral (adafruit_ble, in the style of Adafruit's
# ble_uart_echo_test.py): advertise the Nordic UART Service and send back every byte
# a client writes, one byte at a time.
from adafruit_ble import BLERadio
from adafruit_ble.advertising.standard import ProvideServicesAdvertisement
from adafruit_ble.services.nordic import UARTService

ble = BLERadio()
uart = UARTService()
advertisement = ProvideServicesAdvertisement(uart)

while True:
    ble.start_advertising(advertisement)
    print("advertising as", ble.name)
    while not ble.connected:
        pass
    print("connected")
    while ble.connected:
        # read() gives b"" when nothing arrived within the 1 s timeout.
        one_byte = uart.read(1)
        if one_byte:
            print("echoing", one_byte)
            uart.write(one_byte)
    print("disconnected")
