# asyncio on simulated time inside a multitest: tasks, gather, wait_for_ms, Event,
# ThreadSafeFlag and exact timings, on two instances exchanging broadcasts.
import asyncio
import time


async def count(name, n, period_ms):
    for i in range(n):
        await asyncio.sleep_ms(period_ms)
        print(name, i, time.ticks_ms())
    return name


def instance0():
    multitest.next()

    async def main():
        results = await asyncio.gather(count("a", 2, 30), count("b", 3, 25))
        print("gather", results)
        flag = asyncio.ThreadSafeFlag()
        asyncio.create_task(asyncio.sleep_ms(5))
        try:
            await asyncio.wait_for_ms(flag.wait(), 40)
        except asyncio.TimeoutError:
            print("flag timeout at", time.ticks_ms())
        multitest.broadcast("ready")

    asyncio.run(main())


def instance1():
    multitest.next()
    multitest.wait("ready")
    start = time.ticks_ms()
    print("ready at", start)

    async def main():
        event = asyncio.Event()

        async def setter():
            await asyncio.sleep(0.25)
            event.set()

        asyncio.create_task(setter())
        await event.wait()
        print("event after", time.ticks_diff(time.ticks_ms(), start))

    asyncio.run(main())
