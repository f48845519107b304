# A MicroPython gateway in the style of aioble's temp_client.py: scan for the
# Environmental Sensing service with `async for`, connect, subscribe to the temperature
# and print three notified readings, then disconnect.
import asyncio
import struct

import bluetooth

import micropython_aiolite as aioble

_ENV_SENSE = bluetooth.UUID(0x181A)
_TEMPERATURE = bluetooth.UUID(0x2A6E)


async def find_sensor():
    async with aioble.scan(5000, interval_us=30_000, window_us=30_000, active=True) as scanner:
        async for result in scanner:
            if result.name() == "aio-temp" and _ENV_SENSE in result.services():
                return result.device
    return None


async def main():
    device = await find_sensor()
    if device is None:
        print("no sensor found")
        return
    print("found sensor", device)
    try:
        connection = await device.connect(timeout_ms=2000)
    except asyncio.TimeoutError:
        print("connection timed out")
        return
    async with connection:
        service = await connection.service(_ENV_SENSE)
        characteristic = await service.characteristic(_TEMPERATURE)
        await characteristic.subscribe(notify=True)
        for i in range(1, 4):
            data = await characteristic.notified(timeout_ms=2000)
            print("reading {}: {:.2f} C".format(i, struct.unpack("<h", data)[0] / 100))


asyncio.run(main())
