# scenario-crowd: a beacon advertising its name (non-connectable, 100 ms).
from blesim import device

device.advertise(name=device.name, connectable=False, interval_ms=100)
