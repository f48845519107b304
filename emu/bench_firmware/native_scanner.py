# scenario-crowd: a scanner printing every advertisement it receives.
from blesim import device

for report in device.scan(duration_ms=3_600_000, active=False, unique=False):
    print(report.name, report.rssi)
