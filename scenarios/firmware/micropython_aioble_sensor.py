# A MicroPython sensor in the style of aioble's temp_sensor.py: it advertises the
# Environmental Sensing service, and once a gateway connects it notifies a temperature
# every 250 ms until the gateway leaves. Library: micropython_aiolite.py (next to it).
import asyncio
import random
import struct

import bluetooth

import micropython_aiolite as aioble

_ENV_SENSE = bluetooth.UUID(0x181A)
_TEMPERATURE = bluetooth.UUID(0x2A6E)

service = aioble.Service(_ENV_SENSE)
temperature = aioble.Characteristic(service, _TEMPERATURE, read=True, notify=True)
aioble.register_services(service)


async def sensor_task(state):
    value = 21.0
    while True:
        value += random.uniform(-0.5, 0.5)
        temperature.write(struct.pack("<h", int(value * 100)))
        if state.get("connection") is not None:
            temperature.notify(state["connection"])
        await asyncio.sleep_ms(250)


async def peripheral_task(state):
    while True:
        async with await aioble.advertise(100_000, name="aio-temp", services=[_ENV_SENSE]) as connection:
            print("gateway connected")
            state["connection"] = connection
            await connection.disconnected(timeout_ms=None)
            state["connection"] = None
            print("gateway left")


async def main():
    state = {"connection": None}
    await asyncio.gather(sensor_task(state), peripheral_task(state))


asyncio.run(main())
