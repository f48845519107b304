"""Firmware personalities: MicroPython ``bluetooth``, QuecPython ``ble``, CircuitPython ``_bleio``.

Each personality is an adapter: it translates a firmware API to host calls and host
events to the API's callbacks, with no protocol rules of its own.
"""
