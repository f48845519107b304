# Scans for 5 s and prints every beacon once, with its RSSI, then how many it saw.
from blesim import device

seen = {}
for report in device.scan(duration_ms=5000, active=False):
    if report.name and report.name.startswith("shelf-") and report.name not in seen:
        seen[report.name] = report.rssi
        print(report.name, "rssi", report.rssi)
print("saw %d shelves" % len(seen))
