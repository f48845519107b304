# Harness semantics: SET globals reach instances started later, output before NEXT is kept,
# instance1 starts only when instance0 prints NEXT, a SET after NEXT is plain output.
import time

VALUE = 1


def instance0():
    print("instance0 module value", VALUE)
    multitest.globals(PEER_NAME="alpha", PEER_ADDR=(0, b"\x11\x22\x33"))
    multitest.globals(COUNT=3)
    time.sleep_ms(250)
    print("started at", time.ticks_ms())
    multitest.next()
    multitest.globals(LATE=1)
    multitest.wait("done")
    print("instance0 saw done")


def instance1():
    print("instance1 starts at", time.ticks_ms())
    multitest.next()
    print(PEER_NAME, PEER_ADDR, COUNT)
    try:
        print(LATE)
    except NameError:
        print("LATE is not defined")
    multitest.broadcast("done")
