# aioble-style peripheral: a temperature sensor with a writable command characteristic.
# It advertises with `async with await advertise(...)`, waits for a command written by
# the central (with a timeout), notifies readings, and first shows an advertising timeout.
import asyncio
import struct
import time

import bluetooth

import micropython_aiolite as aioble

_ENV_SENSE = bluetooth.UUID(0x181A)
_TEMPERATURE = bluetooth.UUID(0x2A6E)
_COMMAND = bluetooth.UUID("7d2e0001-5f3a-4b61-9c1e-3a0c2b6d8e11")

environment = aioble.Service(_ENV_SENSE)
temperature = aioble.Characteristic(environment, _TEMPERATURE, read=True, notify=True,
                                    initial=struct.pack("<h", 2150))
command = aioble.Characteristic(environment, _COMMAND, write=True)
aioble.register_services(environment)


def ms():
    return time.ticks_ms()


async def main():
    # Nobody connects within 200 ms: the advertisement times out.
    try:
        await aioble.advertise(50_000, name="no-one", timeout_ms=200)
    except asyncio.TimeoutError:
        print("advertise timed out at", ms())
    await asyncio.sleep_ms(300)
    print("advertising as sensor at", ms())
    async with await aioble.advertise(50_000, name="aio-sensor", services=[_ENV_SENSE]) as connection:
        print("central connected:", connection.is_connected())
        try:
            await command.written(timeout_ms=100)
        except asyncio.TimeoutError:
            print("no command within 100 ms")
        await command.written(timeout_ms=5000)
        request = bytes(command.read())
        print("command:", request)
        count = int(request.split()[1])
        for i in range(count):
            temperature.write(struct.pack("<h", 2150 + 25 * (i + 1)))
            temperature.notify(connection)
            await asyncio.sleep_ms(100)
        await connection.disconnected(timeout_ms=10_000)
        print("central disconnected")


asyncio.run(main())
print("sensor done")
