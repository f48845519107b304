# Harness semantics: broadcasts queue up at the other instances, wait() discards lines
# that do not match, and waiting parks only simulated time.
import time


def instance0():
    multitest.next()
    multitest.broadcast("noise")
    multitest.broadcast("ping 1")
    time.sleep_ms(100)
    multitest.broadcast("ping 2")
    multitest.wait("pong")
    print("instance0 got pong at", time.ticks_ms())
    multitest.broadcast("bye")


def instance1():
    multitest.next()
    time.sleep_ms(500)
    multitest.wait("ping 1")
    print("instance1 got ping 1 at", time.ticks_ms())
    multitest.wait("ping 2")
    print("instance1 got ping 2 at", time.ticks_ms())
    time.sleep_ms(20)
    multitest.broadcast("pong")
    multitest.wait("bye")
    print("instance1 done at", time.ticks_ms())
