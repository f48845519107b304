# aioble-style central: scans with `async for`, connects, discovers, reads, subscribes,
# writes a command and waits for notifications with timeouts; a connection attempt to a
# device that is not there times out.
import asyncio
import struct
import time

import bluetooth

import micropython_aiolite as aioble

_ENV_SENSE = bluetooth.UUID(0x181A)
_TEMPERATURE = bluetooth.UUID(0x2A6E)
_COMMAND = bluetooth.UUID("7d2e0001-5f3a-4b61-9c1e-3a0c2b6d8e11")


def celsius(data):
    return struct.unpack("<h", data)[0] / 100


async def find_sensor():
    async with aioble.scan(5000, interval_us=30_000, window_us=30_000, active=True) as scanner:
        async for result in scanner:
            if _ENV_SENSE in result.services():
                print("found", result.name(), "connectable:", result.connectable)
                return result.device
    return None


async def main():
    nobody = aioble.Device(0, b"\x01\x02\x03\x04\x05\x06")
    try:
        await nobody.connect(timeout_ms=300)
    except asyncio.TimeoutError:
        print("connect to absent device timed out")
    device = await find_sensor()
    connection = await device.connect(timeout_ms=2000)
    print("connected:", connection.is_connected())
    async with connection:
        service = await connection.service(_ENV_SENSE)
        temperature = await service.characteristic(_TEMPERATURE)
        command = await service.characteristic(_COMMAND)
        print("initial temperature:", celsius(await temperature.read()))
        await temperature.subscribe(notify=True)
        await asyncio.sleep_ms(200)
        await command.write(b"notify 3", response=True)
        for _ in range(3):
            print("notified temperature:", celsius(await temperature.notified(timeout_ms=1000)))
        try:
            await temperature.notified(timeout_ms=300)
        except asyncio.TimeoutError:
            print("no more notifications (timeout)")
    print("disconnected:", not connection.is_connected())


asyncio.run(main())
