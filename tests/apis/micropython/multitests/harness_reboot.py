# Harness semantics: expect_reboot() keeps its line in the output; the next reset of the
# device re-runs the file and calls the resume function instead of instance0().
import machine
import time

print("module code runs on every boot")


def instance0():
    multitest.next()
    print("before reset at", time.ticks_ms())
    multitest.expect_reboot("instance0_resume", 100)
    time.sleep_ms(100)
    machine.reset()
    print("not reached")


def instance0_resume():
    print("resumed at", time.ticks_ms())
    multitest.broadcast("back")


def instance1():
    multitest.next()
    multitest.wait("back")
    print("instance1 saw the reboot")
