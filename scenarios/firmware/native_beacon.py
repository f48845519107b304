# A shelf beacon: non-connectable advertising with its node name (from the device name).
from blesim import device

device.advertise(name=device.name, connectable=False, interval_ms=100)
