"""``machine`` (reset, deepsleep, Timer, stand-ins) and the small modules
(``micropython``, ``sys``, ``_thread``, ``gc``, ``u``-aliases) of the personality."""

from __future__ import annotations

from pathlib import Path

from tests.apis.micropython.test_bluetooth_rig import addr_bytes, failures, lines, run_nodes

BOOT_COUNTER = """
import machine, time
try:
    n = int(open('boots').read())
except OSError:
    n = 0
open('boots', 'w').write(str(n + 1))
print('boot', n, machine.reset_cause(), time.ticks_ms())
"""


def test_reset_reboots_with_state_kept(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": BOOT_COUNTER + """
if n < 2:
    time.sleep_ms(100)
    machine.reset()
    print('not reached')
"""})
    assert failures(record) == []
    # PWRON_RESET (1) first, HARD_RESET (2) after machine.reset().
    assert lines(record, "a") == ["boot 0 1 0", "boot 1 2 100", "boot 2 2 200"]


def test_soft_reset_and_deepsleep(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": BOOT_COUNTER + """
if n == 0:
    machine.soft_reset()
elif n == 1:
    machine.deepsleep(500)
"""})
    assert lines(record, "a") == ["boot 0 1 0", "boot 1 5 0", "boot 2 4 500"]


def test_reset_takes_the_ble_stack_down(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {
        "a": BOOT_COUNTER + """
import bluetooth
ble = bluetooth.BLE()
print('active', ble.active())
if n == 0:
    ble.active(True)
    ble.gap_advertise(20000, b'\\x02\\x01\\x06')
    time.sleep_ms(500)
    machine.reset()
""",
        "b": """
import bluetooth, time
ble = bluetooth.BLE()
ble.active(True)
seen = []
ble.irq(lambda e, d: seen.append(time.ticks_ms()) if e == 5 else None)
ble.gap_scan(1500, 20000, 20000)
time.sleep_ms(1600)
print('before', len([t for t in seen if t < 500]) > 10, 'after', len([t for t in seen if t > 510]))
""",
    }, duration="2s")
    assert lines(record, "a") == ["boot 0 1 0", "active False", "boot 1 2 500", "active False"]
    assert lines(record, "b") == ["before True after 0"]


def test_timers_fire_on_simulated_time(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": """
import machine, time
ticks = []
t = machine.Timer(-1)
t.init(mode=machine.Timer.PERIODIC, period=100, callback=lambda tm: ticks.append(time.ticks_ms()))
once = machine.Timer(-1, mode=machine.Timer.ONE_SHOT, period=250, callback=lambda tm: print('once', time.ticks_ms(), tm))
time.sleep_ms(450)
t.deinit()
time.sleep_ms(300)
print(ticks)
fast = machine.Timer(0, freq=50, callback=lambda tm: ticks.append(time.ticks_ms()))
time.sleep_ms(45)
fast.deinit()
print(ticks[-2:])
"""})
    assert failures(record) == []
    assert lines(record, "a") == ["once 250 Timer(-1)", "[100, 200, 300, 400]", "[770, 790]"]


def test_hardware_stand_ins(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": """
import machine
p = machine.Pin(2, machine.Pin.OUT)
p.on(); a = p.value(); p.off(); b = p()
print(a, b, machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP).value())
print(machine.I2C(0).scan(), machine.ADC(machine.Pin(34)).read_u16(), machine.SPI(1).read(3))
print(machine.unique_id(), machine.freq())
machine.idle()
machine.WDT(timeout=1000).feed()
rtc = machine.RTC()
rtc.datetime((2024, 5, 17, 4, 10, 0, 0, 0))
print(rtc.datetime()[:7])
"""})
    assert failures(record) == []
    assert lines(record, "a") == [
        "1 0 1",
        "[] 0 b'\\x00\\x00\\x00'",
        f"{addr_bytes('a')!r} 160000000",
        "(2024, 5, 17, 4, 10, 0, 0)",
    ]


def test_micropython_sys_thread_gc_and_aliases(tmp_path: Path) -> None:
    record = run_nodes(tmp_path, {"a": """
import micropython, sys, usys, _thread, gc, time
import ustruct, ubinascii, ujson, ucollections
from micropython import const
X = const(7)
order = []
micropython.schedule(lambda arg: order.append(('scheduled', arg)), 5)
order.append('main')
time.sleep_ms(0)
print(X, order)
try:
    for i in range(9):
        micropython.schedule(print, i)
except RuntimeError as e:
    print(e)
time.sleep_ms(1)
print(sys.implementation.name, sys is usys, sys.platform)
try:
    1 / 0
except ZeroDivisionError as e:
    sys.print_exception(e)
lock = _thread.allocate_lock()
lock.acquire()
def worker(tag):
    with lock:
        print('worker', tag, time.ticks_ms())
_thread.start_new_thread(worker, ('w',))
time.sleep_ms(10)
lock.release()
time.sleep_ms(1)
print(gc.collect(), gc.mem_free() > 0)
print(ustruct.pack('<H', 258), ubinascii.hexlify(b'\\x01\\xab', ':'), ujson.dumps({'a': 1}))
print(ucollections.deque((), 3).maxlen)
"""})
    assert failures(record) == []
    out = lines(record, "a")
    assert out[0] == "7 ['main', ('scheduled', 5)]"
    assert out[1] == "schedule queue full"
    assert out[2:10] == [str(i) for i in range(8)]
    assert out[10] == "micropython True linux"
    assert out[11:14] == ["Traceback (most recent call last):", '  File "a.py", line 19, in <module>',
                          "ZeroDivisionError: division by zero"]
    assert out[14:] == [
        "worker w 11",
        "0 True",
        "b'\\x02\\x01' b'01:ab' {\"a\": 1}",
        "3",
    ]
