# Advertising payload helpers for the MicroPython example scenarios (blesim), in the
# spirit of MicroPython's examples/bluetooth/ble_advertising.py: build an advertising
# payload from flags, a name, service UUIDs and an appearance, and decode the name and
# the service UUIDs of a received payload.

import struct

import bluetooth
from micropython import const

_ADV_TYPE_FLAGS = const(0x01)
_ADV_TYPE_NAME = const(0x09)
_ADV_TYPE_UUID16_COMPLETE = const(0x03)
_ADV_TYPE_UUID32_COMPLETE = const(0x05)
_ADV_TYPE_UUID128_COMPLETE = const(0x07)
_ADV_TYPE_APPEARANCE = const(0x19)

_ADV_MAX_PAYLOAD = const(31)


def advertising_payload(limited_disc=False, br_edr=False, name=None, services=None, appearance=0):
    """An advertising payload (bytearray) of AD structures."""
    payload = bytearray()

    def add(ad_type, value):
        payload.extend(struct.pack("BB", len(value) + 1, ad_type))
        payload.extend(value)

    add(_ADV_TYPE_FLAGS, struct.pack("B", (0x01 if limited_disc else 0x02) + (0x18 if br_edr else 0x04)))
    if name:
        add(_ADV_TYPE_NAME, name.encode() if isinstance(name, str) else name)
    for uuid in services or ():
        raw = bytes(uuid)
        if len(raw) == 2:
            add(_ADV_TYPE_UUID16_COMPLETE, raw)
        elif len(raw) == 4:
            add(_ADV_TYPE_UUID32_COMPLETE, raw)
        elif len(raw) == 16:
            add(_ADV_TYPE_UUID128_COMPLETE, raw)
    if appearance:
        add(_ADV_TYPE_APPEARANCE, struct.pack("<h", appearance))
    if len(payload) > _ADV_MAX_PAYLOAD:
        raise ValueError("advertising payload too large")
    return payload


def _fields(payload, ad_type):
    found = []
    i = 0
    while i + 1 < len(payload):
        length = payload[i]
        if length == 0:
            break
        if payload[i + 1] == ad_type:
            found.append(bytes(payload[i + 2 : i + 1 + length]))
        i += 1 + length
    return found


def decode_name(payload):
    names = _fields(payload, _ADV_TYPE_NAME)
    return str(names[0], "utf-8") if names else ""


def decode_services(payload):
    services = []
    for width, ad_type in ((2, _ADV_TYPE_UUID16_COMPLETE), (4, _ADV_TYPE_UUID32_COMPLETE), (16, _ADV_TYPE_UUID128_COMPLETE)):
        for field in _fields(payload, ad_type):
            for j in range(0, len(field) - width + 1, width):
                services.append(bluetooth.UUID(field[j : j + width]))
    return services
