"""utime, _thread, queue, checkNet, osTimer, log, misc, modem, usys and the builtins quirk,
each on simulated time inside a Quectel node."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from apis.quectel.sysmods import RTC_START, TICKS_PERIOD, make_utime_module
from tests.apis.quectel.world import assert_in_order, failures, lines, run_world


def _utime(now_ns: int = 0):  # type: ignore[no-untyped-def]
    board = SimpleNamespace(runtime=SimpleNamespace(now=now_ns), objects={})
    return make_utime_module(board)  # type: ignore[arg-type]


@given(st.integers(0, TICKS_PERIOD - 1), st.integers(-(TICKS_PERIOD // 2), TICKS_PERIOD // 2 - 1))
def test_ticks_add_and_diff_invert_each_other(ticks: int, delta: int) -> None:
    utime = _utime()
    later = utime.ticks_add(ticks, delta)
    assert 0 <= later < TICKS_PERIOD
    assert utime.ticks_diff(later, ticks) == delta


def test_ticks_wrap_at_2_to_the_30() -> None:
    assert _utime((TICKS_PERIOD + 5) * 1_000_000).ticks_ms() == 5
    assert _utime((TICKS_PERIOD + 7) * 1_000).ticks_us() == 7
    assert _utime().ticks_diff(3, TICKS_PERIOD - 2) == 5


@given(st.integers(0, 4_000_000_000), st.integers(-12, 12))
def test_localtime_and_mktime_round_trip(seconds: int, zone: int) -> None:
    utime = _utime()
    utime.setTimeZone(zone)
    assert utime.mktime(utime.localtime(seconds)) == seconds


def test_localtime_fields() -> None:
    utime = _utime(5_500_000_000)
    assert utime.time() == RTC_START + 5
    assert utime.localtime() == (2024, 1, 1, 0, 0, 5, 0, 1)  # a Monday, day 1
    assert utime.localtime(0) == (1970, 1, 1, 0, 0, 0, 3, 1)  # a Thursday
    assert utime.localtime(RTC_START + 366 * 86400 - 1)[:3] == (2024, 12, 31)
    utime.setTimeZone(8)
    assert utime.localtime(0)[3] == 8 and utime.getTimeZone() == 8


COMPANIONS = """
import utime
import _thread
import checkNet
import log
import misc
import modem
import osTimer
import usys
from queue import Queue


def check(label, fn, *args):
    try:
        print("{}: {}".format(label, fn(*args)))
    except Exception as exc:
        print("{}: {}".format(label, type(exc).__name__))


t0 = utime.ticks_ms()
utime.sleep_ms(250)
print("slept", utime.ticks_diff(utime.ticks_ms(), t0))
utime.sleep(1.5)
print("now", utime.ticks_us())
check("tz 13", utime.setTimeZone, 13)

lock = _thread.allocate_lock()
print("lock", lock.acquire(), lock.locked(), lock.acquire(0))
lock.release()
check("release unlocked", lock.release)
with lock:
    print("with", lock.locked())
sem = _thread.allocate_semphore(2)
sem.acquire()
print("sem", sem.getCnt())
sem.release()
sem.release()
print("sem", sem.getCnt())
print("stack", _thread.stack_size(), _thread.stack_size(100), _thread.stack_size(9000), _thread.stack_size())

ticks = []


def worker(tag):
    while True:
        ticks.append(tag)
        utime.sleep_ms(100)


wid = _thread.start_new_thread(worker, ("w",))
utime.sleep_ms(350)
print("running", _thread.threadIsRunning(wid), len(ticks))
print("stop", _thread.stop_thread(wid), _thread.threadIsRunning(wid))
utime.sleep_ms(300)
print("stopped", len(ticks))
check("args not tuple", _thread.start_new_thread, worker, "w")

q = Queue(2)
print("put", q.put(1), q.put(2), q.put(3), q.put(4), q.size())


def producer():
    utime.sleep(1)
    q.put("late")


_thread.start_new_thread(producer, ())
print("got", q.get(), q.get(), q.get())
t1 = utime.ticks_ms()
print("late", q.get(), utime.ticks_diff(utime.ticks_ms(), t1))

net = checkNet.CheckNetwork("Demo", "1.0")
net.poweron_print_once()
net.poweron_print_once()
print("net", net.wait_network_connected(30), checkNet.waitNetworkReady())
check("net timeout", net.wait_network_connected, 0)

log.basicConfig(level=log.INFO)
app = log.getLogger("app")
app.debug("hidden")
app.info("hello %d", 5)
app.warning("careful")
app.critical("down")

print("misc", misc.Power.powerOnReason(), misc.ADC().read(0), misc.PWM(1, 2).open())
print("modem", modem.getDevModel(), len(modem.getDevImei()), modem.getDevImei() == modem.getDevImei())
usys.stdout.write("via usys\\n")
import sys
sys.path.append("/usr")
print("sys", sys.path, sys is usys)

fired = []


def on_timer(arg):
    fired.append((utime.ticks_ms(), arg, _thread.get_ident()))


timer = osTimer.osTimer()
t2 = utime.ticks_ms()
print("timer", timer.start(100, 1, on_timer))
utime.sleep_ms(350)
print("timer stop", timer.stop())
utime.sleep_ms(300)
print("fired", [utime.ticks_diff(t, t2) for t, _, _ in fired], set(a for _, a, _ in fired), len(set(i for _, _, i in fired)))
one = osTimer.osTimer()
one.start(50, 0, on_timer)
utime.sleep_ms(200)
print("one shot", len(fired))

data = bytearray("Hello, Client!")
print("bytearray", data, isinstance(data, bytearray), isinstance(bytearray(b"x"), bytearray), type(data).__name__)
print("done")
"""


def test_companion_modules(tmp_path: Path) -> None:
    record = run_world(tmp_path, {"board": COMPANIONS}, duration="10s")
    assert failures(record) == {}
    assert_in_order(lines(record, "board"), [
        r"slept 250",
        r"now 1750000",
        r"tz 13: ValueError",
        r"lock True True False",
        r"release unlocked: RuntimeError",
        r"with True",
        r"sem \(2, 1\)",
        r"sem \(2, 2\)",                                  # never above its maximum
        r"stack 8448 -1 0 9000",
        r"running True 4",
        r"stop 0 False",
        r"stopped 4",
        r"args not tuple: TypeError",
        r"put True True True False 3",                    # holds maxsize + 1
        r"got 1 2 3",
        r"late late 1000",
        r"=+",
        r"PROJECT_NAME     : Demo",
        r"PROJECT_VERSION  : 1.0",
        r"FIRMWARE_VERSION : EC600U.*",
        r"=+",
        r"net \(3, 1\) \(3, 1\)",
        r"net timeout: OSError",
        r"INFO:app:hello 5",
        r"WARN:app:careful",
        r"CRIT:app:down",
        r"misc 1 0 0",
        r"modem EC600U 15 True",
        r"via usys",
        r"sys \['', '/usr', '/usr'\] True",
        r"timer 0",
        r"timer stop 0",
        r"fired \[100, 200, 300\] \{None\} 1",            # exact instants, one callback thread
        r"one shot 4",
        r"bytearray bytearray\(b'Hello, Client!'\) True True bytearray",
        r"done",
    ])
    out = lines(record, "board")
    assert "hidden" not in "\n".join(out)
    assert sum(1 for line in out if line.startswith("PROJECT_NAME")) == 1  # printed once


def test_bytearray_quirk_is_for_quectel_nodes_only(tmp_path: Path) -> None:
    probe = """
try:
    print("bytearray", bytes(bytearray("abc")))
except TypeError:
    print("bytearray TypeError")
"""
    record = run_world(tmp_path, {"quec": probe, "other": probe}, duration="1s",
                       personalities={"other": "native"})
    assert lines(record, "quec") == ["bytearray b'abc'"]
    assert lines(record, "other") == ["bytearray TypeError"]
    assert bytearray(b"x") == b"x"  # blesim's own builtins untouched


OVERFLOW = """
import osTimer
import utime

count = [0]


def slow(arg):
    count[0] += 1
    utime.sleep(1)


t = osTimer.osTimer()
t.start(1, 1, slow)
utime.sleep_ms(100)
t.stop()
utime.sleep(70)
print("handled", count[0])
"""


def test_callback_queue_is_64_deep_and_drops_when_full(tmp_path: Path) -> None:
    record = run_world(tmp_path, {"board": OVERFLOW}, duration="80s")
    assert failures(record) == {}
    out = lines(record, "board")
    drops = [line for line in out if line.startswith("[blesim] callback queue full (64)")]
    assert drops and drops[0] == "[blesim] callback queue full (64): osTimer callback dropped"
    # 99 expiries (1..99 ms; the stop at 100 ms comes first): the first callback runs (and
    # sleeps), 64 wait in the queue, the other 34 are dropped.
    assert len(drops) == 34
    assert out[-1] == "handled 65"


REBOOT = """
import ble
import misc
import utime

boots = 0
try:
    with open("/usr/boots") as f:
        boots = int(f.read())
except OSError:
    pass
with open("/usr/boots", "w") as f:
    f.write(str(boots + 1))

got = []
print("boot", boots, "status", ble.getStatus())
ble.serverInit(got.append)
print("start", ble.gattStart())
utime.sleep_ms(50)
print("events", got, "status", ble.getStatus())
if boots == 0:
    ble.setAdvData(b"\\x02\\x01\\x06")
    print("adv", ble.advStart())
    utime.sleep_ms(50)
    misc.Power.powerRestart()
print("done")
"""


def test_a_reboot_resets_the_ble_module(tmp_path: Path) -> None:
    record = run_world(tmp_path, {"board": REBOOT}, duration="1s")
    assert failures(record) == {}
    assert lines(record, "board") == [
        "boot 0 status 0", "start 0", "events [(0, 0)] status 1", "adv 0",
        "boot 1 status 0", "start 0", "events [(0, 0)] status 1", "done",
    ]
