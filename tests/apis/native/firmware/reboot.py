# Counts its boots in a file of the node's state folder, then advertises; rebooted by the timeline.
import os

from blesim import device

try:
    with open("boots.txt") as f:
        boots = int(f.read())
except OSError:
    boots = 0
boots += 1
with open("boots.txt", "w") as f:
    f.write(str(boots))
print("boot", boots, "powered", device.powered, "advertising", device.advertising)
device.advertise(name="boot%d" % boots, interval_ms=50)
print("advertising", device.advertising)
