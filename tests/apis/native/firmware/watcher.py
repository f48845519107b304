# Prints each distinct advertised name it sees.
from blesim import device

names = []
for report in device.scan(duration_ms=None, active=False):
    if report.name and report.name not in names:
        names.append(report.name)
        print("saw", report.name)
