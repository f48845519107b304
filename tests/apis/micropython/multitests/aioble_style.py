# An aioble-style asyncio pair as a multitest (run with
# --lib scenarios/firmware/micropython_aiolite.py): the peripheral advertises with
# `async with await advertise()`, waits for a write and notifies; the central scans with
# `async for`, connects, subscribes, writes and times out waiting for one notification
# too many.
import asyncio
import struct

import bluetooth

import micropython_aiolite as aioble

SERVICE_UUID = bluetooth.UUID("c0ffee00-aaaa-4bbb-8ccc-000000000001")
COUNTER_UUID = bluetooth.UUID("c0ffee00-aaaa-4bbb-8ccc-000000000002")
CONTROL_UUID = bluetooth.UUID("c0ffee00-aaaa-4bbb-8ccc-000000000003")


def instance0():
    service = aioble.Service(SERVICE_UUID)
    counter = aioble.Characteristic(service, COUNTER_UUID, read=True, notify=True)
    control = aioble.Characteristic(service, CONTROL_UUID, write=True)
    aioble.register_services(service)
    multitest.next()

    async def main():
        async with await aioble.advertise(25_000, name="mtaio", services=[SERVICE_UUID],
                                          timeout_ms=5000) as connection:
            print("connected")
            await control.written(timeout_ms=5000)
            count = struct.unpack("<B", control.read())[0]
            print("asked for", count)
            for i in range(count):
                counter.write(struct.pack("<I", i * 1000))
                counter.notify(connection)
                await asyncio.sleep_ms(50)
            await connection.disconnected(timeout_ms=5000)
            print("disconnected")

    asyncio.run(main())


def instance1():
    multitest.next()

    async def main():
        device = None
        async with aioble.scan(5000, interval_us=30_000, window_us=30_000, active=True) as scanner:
            async for result in scanner:
                if result.name() == "mtaio" and SERVICE_UUID in result.services():
                    device = result.device
                    break
        print("found:", device is not None)
        connection = await device.connect(timeout_ms=2000)
        async with connection:
            service = await connection.service(SERVICE_UUID)
            counter = await service.characteristic(COUNTER_UUID)
            control = await service.characteristic(CONTROL_UUID)
            await counter.subscribe(notify=True)
            await control.write(struct.pack("<B", 3), response=True)
            for _ in range(3):
                print("counter", struct.unpack("<I", await counter.notified(timeout_ms=1000))[0])
            try:
                await counter.notified(timeout_ms=500)
            except asyncio.TimeoutError:
                print("timeout")
        print("disconnected")

    asyncio.run(main())
