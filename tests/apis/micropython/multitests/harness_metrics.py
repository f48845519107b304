# Harness semantics: OUTPUT_METRIC lines are set aside, lines the real harness ignores
# are dropped, trailing spaces are stripped, and an instance with no NEXT still runs.
import time


def instance0():
    multitest.next()
    print("value   ")
    print("libusb: error [dropped line]")
    multitest.output_metric("rate=12.5 per s")
    print("tab\tinside")


def instance1():
    t0 = time.ticks_ms()
    time.sleep_ms(1500)
    print("slept", time.ticks_diff(time.ticks_ms(), t0))
