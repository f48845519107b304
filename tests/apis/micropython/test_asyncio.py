"""The asyncio stand-in on simulated time: API, MicroPython semantics, exact instants."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from apis.micropython.asyncio_mod import ASYNCIO_MODULES, make_asyncio_module
from emu.kernel import Kernel
from emu.runtime import FirmwareScheduler, NodeRuntime
from tests.apis.micropython.test_multitest_helpers import (
    make_machine,
    make_micropython,
    make_time,
)

MS = 1_000_000
MODULES = {"time": make_time, "machine": make_machine, "micropython": make_micropython, **ASYNCIO_MODULES}


class Rig:
    """Nodes running firmware files with the asyncio stand-in, on one kernel."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.kernel = Kernel(3)
        self.scheduler = FirmwareScheduler(self.kernel, watchdog_s=5.0)
        self.errors: list[tuple[str, int, BaseException, str]] = []

    def node(self, name: str, source: str, boot_ns: int = 0) -> NodeRuntime:
        fw = self.tmp / name / "main.py"
        fw.parent.mkdir(parents=True, exist_ok=True)
        fw.write_text(textwrap.dedent(source).lstrip("\n"))
        rt = NodeRuntime(
            name, self.kernel, self.scheduler, self.kernel.seeds, self.tmp / "state" / name,
            firmware=fw, modules=MODULES, on_error=lambda *a: self.errors.append(a),
        )
        self.kernel.call_at(boot_ns, rt.boot)
        return rt

    def run(self, until_ns: int | None = None) -> None:
        self.kernel.run(until_ns)


def lines(rt: NodeRuntime) -> list[str]:
    return [line for _, line in rt.output_lines]


def timed(rt: NodeRuntime) -> list[tuple[int, str]]:
    return [(t // MS, line) for t, line in rt.output_lines]


def run_one(tmp_path: Path, source: str, until_ns: int | None = None) -> tuple[Rig, NodeRuntime]:
    rig = Rig(tmp_path)
    rt = rig.node("a", source)
    rig.run(until_ns)
    return rig, rt


def test_sleep_ms_and_sleep_resume_at_exact_instants(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio, time
        async def main():
            await asyncio.sleep_ms(7)
            print("a", time.ticks_us())
            await asyncio.sleep(0.0125)
            print("b", time.ticks_us())
            await asyncio.sleep_ms(0)
            print("c", time.ticks_us())
        asyncio.run(main())
    """)
    assert [(t, line) for t, line in rt.output_lines] == [
        (7_000_000, "a 7000"), (19_500_000, "b 19500"), (19_500_000, "c 19500"),
    ]
    assert rig.errors == []


def test_run_is_repeatable_and_leftover_tasks_continue_in_the_next_run(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio, time
        async def background():
            for i in range(4):
                await asyncio.sleep_ms(10)
                print("bg", i, time.ticks_ms())
        async def main(n):
            await asyncio.sleep_ms(n)
            return n
        asyncio.create_task(background())  # before any run()
        print("run1", asyncio.run(main(15)))
        time.sleep_ms(100)  # the loop is not running: background waits
        print("run2", asyncio.run(main(25)))
    """)
    assert timed(rt) == [
        (10, "bg 0 10"), (15, "run1 15"), (115, "bg 1 115"), (125, "bg 2 125"),
        (135, "bg 3 135"), (140, "run2 25"),
    ]


def test_gather_returns_results_in_order_and_return_exceptions(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio
        async def value(v, ms):
            await asyncio.sleep_ms(ms)
            return v
        async def boom(ms):
            await asyncio.sleep_ms(ms)
            raise ValueError("boom")
        async def main():
            print(await asyncio.gather(value("x", 30), value("y", 10), value("z", 20)))
            print(await asyncio.gather())
            res = await asyncio.gather(value(1, 5), boom(1), return_exceptions=True)
            print(res[0], type(res[1]).__name__, res[1])
        asyncio.run(main())
    """)
    assert lines(rt) == ["['x', 'y', 'z']", "[]", "1 ValueError boom"]


def test_gather_raises_the_first_exception_and_leaves_the_others_running(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio, time
        async def slow():
            await asyncio.sleep_ms(50)
            print("slow finished", time.ticks_ms())
        async def boom():
            await asyncio.sleep_ms(10)
            raise OSError(5)
        async def main():
            try:
                await asyncio.gather(slow(), boom())
            except OSError as e:
                print("gather raised", e.args[0], time.ticks_ms())
            await asyncio.sleep_ms(100)
        asyncio.run(main())
    """)
    assert timed(rt) == [(10, "gather raised 5 10"), (50, "slow finished 50")]


def test_cancelling_gather_cancels_its_tasks(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio, time
        async def child(n):
            try:
                await asyncio.sleep_ms(1000)
            except asyncio.CancelledError:
                print("child", n, "cancelled at", time.ticks_ms())
                raise
        async def main():
            g = asyncio.create_task(asyncio.gather(child(1), child(2)))
            await asyncio.sleep_ms(30)
            g.cancel()
            try:
                await g
            except asyncio.CancelledError:
                print("gather cancelled")
        asyncio.run(main())
    """)
    assert lines(rt) == ["child 1 cancelled at 30", "child 2 cancelled at 30", "gather cancelled"]


def test_wait_for_times_out_cancels_the_awaitable_and_waits_for_it(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio, time
        async def slow():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                print("slow cancelled at", time.ticks_ms())
                raise
        async def quick():
            await asyncio.sleep_ms(5)
            return "quick"
        async def main():
            try:
                await asyncio.wait_for(slow(), 0.2)
            except asyncio.TimeoutError:
                print("timeout at", time.ticks_ms())
            print(await asyncio.wait_for(quick(), 1))
            print(await asyncio.wait_for_ms(quick(), 100))
            print(await asyncio.wait_for(quick(), None))
            try:
                await asyncio.wait_for_ms(slow(), 40)
            except asyncio.TimeoutError as e:
                print("ms timeout", type(e).__name__, time.ticks_ms())
        asyncio.run(main())
    """)
    assert lines(rt) == [
        "slow cancelled at 200", "timeout at 200", "quick", "quick", "quick",
        "slow cancelled at 255", "ms timeout TimeoutError 255",
    ]


def test_wait_for_cancelled_from_outside_cancels_the_awaitable(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio, time
        async def slow():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                print("inner cancelled at", time.ticks_ms())
                raise
        async def waiter():
            await asyncio.wait_for(slow(), 5)
        async def main():
            t = asyncio.create_task(waiter())
            await asyncio.sleep_ms(20)
            t.cancel()
            await asyncio.sleep_ms(1)
            print("done", t.done())
        asyncio.run(main())
    """)
    assert lines(rt) == ["inner cancelled at 20", "done True"]


def test_event_wakes_every_waiter_and_stays_set_until_clear(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio, time
        ev = asyncio.Event()  # module level: no loop yet
        async def waiter(n):
            await ev.wait()
            print("waiter", n, time.ticks_ms())
        async def main():
            asyncio.create_task(waiter(1))
            asyncio.create_task(waiter(2))
            await asyncio.sleep_ms(40)
            print("set", ev.is_set())
            ev.set()
            await asyncio.sleep_ms(1)
            await ev.wait()  # already set: returns at once
            ev.clear()
            print("cleared", ev.is_set())
        asyncio.run(main())
    """)
    assert lines(rt) == ["set False", "waiter 1 40", "waiter 2 40", "cleared False"]


def test_lock_is_fifo_and_release_unlocked_raises(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio, time
        lock = asyncio.Lock()
        async def worker(n):
            async with lock:
                print("worker", n, "in at", time.ticks_ms())
                await asyncio.sleep_ms(10)
        async def main():
            await asyncio.gather(worker(1), worker(2), worker(3))
            print("locked", lock.locked())
            try:
                lock.release()
            except RuntimeError as e:
                print("RuntimeError", e)
        asyncio.run(main())
    """)
    assert lines(rt) == [
        "worker 1 in at 0", "worker 2 in at 10", "worker 3 in at 20", "locked False",
        "RuntimeError Lock not acquired",
    ]


def test_threadsafeflag_set_from_an_irq_thread_wakes_the_loop_at_that_instant(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rt = rig.node("a", """
        import asyncio, time
        flag = asyncio.ThreadSafeFlag()  # module level, as aioble's characteristics do
        def irq(arg):
            print("irq", arg, time.ticks_us())
            flag.set()
        async def main():
            for _ in range(2):
                await flag.wait()
                print("woken", time.ticks_us())
            flag.set()
            flag.set()
            await flag.wait()  # set: returns at once and clears
            print("state", flag.state)
        asyncio.run(main())
    """)
    def irq(arg: int) -> None:
        assert rt.importer is not None
        rt.run_callback(rt.importer.main_globals["irq"], arg)

    rig.kernel.call_at(3_333_000, lambda: irq(0))
    rig.kernel.call_at(7_000_001, lambda: irq(1))
    rig.run()
    assert [(t, line) for t, line in rt.output_lines] == [
        (3_333_000, "irq 0 3333"), (3_333_000, "woken 3333"),
        (7_000_001, "irq 1 7000"), (7_000_001, "woken 7000"), (7_000_001, "state 0"),
    ]


def test_cancellation_reaches_a_task_blocked_in_a_flag_wait(tmp_path: Path) -> None:
    """aioble's DeviceTimeout: a sleep task cancels the waiter; the waiter turns the
    CancelledError into asyncio.TimeoutError."""
    rig, rt = run_one(tmp_path, """
        import asyncio, time
        flag = asyncio.ThreadSafeFlag()
        class DeviceTimeout:
            def __init__(self, ms):
                self._task = asyncio.current_task()
                self._timer = asyncio.create_task(self._sleep(ms))
            async def _sleep(self, ms):
                try:
                    await asyncio.sleep_ms(ms)
                except asyncio.CancelledError:
                    return
                self._task.cancel()
            def __enter__(self):
                return self
            def __exit__(self, exc_type, exc, tb):
                if exc_type is asyncio.CancelledError:
                    raise asyncio.TimeoutError
                self._timer.cancel()
        async def main():
            try:
                with DeviceTimeout(150):
                    await flag.wait()
            except asyncio.TimeoutError:
                print("TimeoutError at", time.ticks_ms())
            flag.set()
            with DeviceTimeout(150):
                await flag.wait()
            print("no timeout")
            await asyncio.sleep_ms(500)
            print("end", time.ticks_ms())
        asyncio.run(main())
    """)
    assert lines(rt) == ["TimeoutError at 150", "no timeout", "end 650"]
    assert rig.errors == []


def test_current_task_and_errors_names(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio
        async def main():
            t = asyncio.current_task()
            print(isinstance(t, asyncio.Task), t.done())
        asyncio.run(main())
        try:
            asyncio.current_task()
        except RuntimeError as e:
            print("RuntimeError", e)
        try:
            asyncio.create_task(lambda: 1)
        except TypeError as e:
            print("TypeError", e)
        print(issubclass(asyncio.CancelledError, BaseException), asyncio.TimeoutError is TimeoutError)
        import uasyncio
        print(uasyncio is asyncio)
    """)
    assert lines(rt) == [
        "True False", "RuntimeError no running task", "TypeError coroutine expected", "True True", "True",
    ]


def test_an_exception_nobody_awaits_is_printed_when_the_task_ends(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio
        async def bad():
            await asyncio.sleep_ms(10)
            raise OSError(19)
        async def awaited():
            raise KeyError("k")
        async def main():
            asyncio.create_task(bad())
            t = asyncio.create_task(awaited())
            try:
                await t
            except KeyError:
                print("caught")
            await asyncio.sleep_ms(20)
            print("main done")
        asyncio.run(main())
    """)
    out = lines(rt)
    assert out[0] == "caught"
    assert out[1:3] == ["Task exception wasn't retrieved", "future: <Task> coro= <generator object 'bad'>"]
    assert out[3] == "Traceback (most recent call last):"
    assert out[4].startswith('  File "main.py", line 4, in bad')
    assert out[5:] == ["OSError: [Errno 19] ENODEV", "main done"]
    assert rig.errors == []


def test_an_exception_in_the_main_task_propagates_out_of_run(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio
        async def main():
            await asyncio.sleep_ms(3)
            raise ValueError("firmware bug")
        asyncio.run(main())
    """)
    assert len(rig.errors) == 1
    node, t_ns, exc, formatted = rig.errors[0]
    assert (node, t_ns, type(exc), str(exc)) == ("a", 3 * MS, ValueError, "firmware bug")


def test_two_nodes_run_their_loops_at_once(tmp_path: Path) -> None:
    """Each node has its own loop; one node blocking inside a coroutine (time.sleep_ms)
    does not disturb the other's loop."""
    rig = Rig(tmp_path)
    src = """
        import asyncio, time
        async def main():
            for i in range(3):
                await asyncio.sleep_ms(PERIOD)
                if BLOCK:
                    time.sleep_ms(5)  # blocks this node's loop, as on a board
                print(i, time.ticks_ms())
        asyncio.run(main())
    """
    a = rig.node("a", "PERIOD = 10\nBLOCK = True\n" + textwrap.dedent(src))
    b = rig.node("b", "PERIOD = 7\nBLOCK = False\n" + textwrap.dedent(src))
    rig.run()
    assert lines(a) == ["0 15", "1 30", "2 45"]
    assert lines(b) == ["0 7", "1 14", "2 21"]
    assert rig.errors == []


def test_stopping_the_firmware_closes_pending_tasks_at_that_instant(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rt = rig.node("a", """
        import asyncio, time
        async def pending():
            try:
                await asyncio.sleep(100)
            finally:
                print("finally at", time.ticks_ms())
        async def main():
            asyncio.create_task(pending())
            await asyncio.sleep(100)
        asyncio.run(main())
    """)
    rig.kernel.call_at(42 * MS, rt.stop)
    rig.run(200 * MS)
    assert timed(rt) == [(42, "finally at 42")]
    assert rig.errors == []


def test_reboot_starts_with_a_fresh_loop(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rt = rig.node("a", """
        import asyncio, time, machine
        async def main():
            await asyncio.sleep_ms(10)
            print("boot at", time.ticks_ms())
            if time.ticks_ms() < 15:
                machine.reset()
        asyncio.create_task(asyncio.sleep(50))
        asyncio.run(main())
    """)
    rig.run(1_000 * MS)
    assert timed(rt) == [(10, "boot at 10"), (20, "boot at 20")]
    assert rig.errors == []


def test_new_event_loop_drops_the_old_tasks(tmp_path: Path) -> None:
    rig, rt = run_one(tmp_path, """
        import asyncio
        async def never():
            await asyncio.sleep_ms(1)
            print("old task ran")
        async def main():
            await asyncio.sleep_ms(5)
            print("main")
        asyncio.create_task(never())
        loop = asyncio.new_event_loop()
        print(loop is asyncio.get_event_loop())
        asyncio.run(main())
    """)
    assert lines(rt) == ["True", "main"]


def test_the_module_is_per_node_and_per_boot(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    a = rig.node("a", "pass\n")
    b = rig.node("b", "pass\n")
    mod_a, mod_b = make_asyncio_module(a), make_asyncio_module(b)
    assert getattr(mod_a, "Event") is not getattr(mod_b, "Event")
    assert getattr(mod_a, "get_event_loop")() is not getattr(mod_b, "get_event_loop")()
    assert getattr(mod_a, "CancelledError") is getattr(mod_b, "CancelledError")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=12))
def test_every_task_wakes_exactly_when_it_asked(delays: list[int]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rig, rt = run_one(Path(tmp), f"""
            import asyncio, time
            async def sleeper(i, ms):
                await asyncio.sleep_ms(ms)
                print(i, time.ticks_ms())
            async def main():
                await asyncio.gather(*[sleeper(i, ms) for i, ms in enumerate({delays!r})])
            asyncio.run(main())
        """)
    woken = {int(line.split()[0]): (t, int(line.split()[1])) for t, line in rt.output_lines}
    assert len(woken) == len(delays)
    for i, ms in enumerate(delays):
        assert woken[i] == (ms * MS, ms)
    assert [t for t, _ in rt.output_lines] == sorted(t for t, _ in rt.output_lines)
