"""Scenario checks of the world: the ``medium``, ``nodes`` and ``capture`` sections.

Theory of operation
-------------------
Each ``check_*`` function takes the :class:`~emu.scenario_checker.Checker`, the raw
value and its :class:`~emu.scenario_checker.Src`, records a problem for every fault it
finds (unknown keys, bad types and units, missing firmware files, duplicate names or
addresses, options that do not apply to a personality or interferer kind) and keeps
going; it returns the spec with defaults filled in (:mod:`emu.scenario_defaults`), or
None / raises :class:`~emu.scenario_checker.Invalid` when the item cannot be built.
:func:`check_node_names` runs first over all nodes so that later references (and
duplicate names) can be checked; interferer names are collected by
:func:`check_medium` for the timeline. :mod:`emu.scenario` calls these in file order.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from emu import scenario_schema as S
from emu.scenario_checker import Checker, Invalid, MarkedMap, Src, describe
from linklayer.address import Address

__all__ = ["check_medium", "check_node_names", "check_node", "check_capture"]

_MEDIUM_KEYS = ("model", "path_loss_exponent", "noise_floor_dbm", "params", "interferers")
_INTERFERER_KEYS = ("name", "kind", "position", "tx_power", "wifi_channel", "frequency_mhz",
                    "ble_channel", "bandwidth_mhz", "duty_cycle", "period", "enabled")
_NODE_KEYS = ("name", "personality", "firmware", "lib", "position", "address", "address_type",
              "tx_power", "clock_drift_ppm", "boot_time", "hci_latency", "controller", "stack",
              "transport")
_CONTROLLER_KEYS = ("le_acl_data_packet_length", "total_num_le_acl_data_packets", "features",
                    "max_connections", "filter_accept_list_size", "resolving_list_size")
_CAPTURE_KEYS = ("air", "hci", "hci_format", "logs")
_ADDRESS_RE = re.compile(r"^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}$")


def check_medium(ck: Checker, value: object, src: Src) -> S.MediumSpec:
    m = ck.mapping(value, src, "medium", _MEDIUM_KEYS)
    model = m.get("model", lambda v, s: ck.choice(v, s, S.CHANNEL_MODELS, "channel model"))
    exponent = m.get("path_loss_exponent",
                     lambda v, s: ck.number(v, s, 1.0, 10.0, "a path loss exponent"))
    if "path_loss_exponent" in m and model not in (None, "log_distance"):
        ck.error(m.key_src("path_loss_exponent"),
                 f"path_loss_exponent only applies to model 'log_distance', not {model!r}")
    noise = m.get("noise_floor_dbm", lambda v, s: ck.number(v, s, -200.0, 0.0, "a noise floor in dBm"))
    model_name = model or S.DEFAULT_CHANNEL_MODEL
    params = dict(S.CHANNEL_MODELS[model_name])
    if "params" in m and (model is not None or "model" not in m):
        try:
            pm = ck.mapping(m.data["params"], m.value_src("params"),
                            f"params of channel model {model_name!r}", params)
            for key in list(params):
                got = pm.get(key, lambda v, s: ck.number(v, s, what=f"a number for {key}"))
                if got is not None:
                    params[key] = got
        except Invalid:
            pass
    interferers: list[S.InterfererSpec] = []
    if "interferers" in m:
        try:
            for i, item, isrc in ck.items(m.data["interferers"], m.value_src("interferers"),
                                          "interferers"):
                try:
                    spec = _interferer(ck, item, isrc, i)
                except Invalid:
                    continue
                if spec is not None:
                    interferers.append(spec)
        except Invalid:
            pass
    return S.MediumSpec(
        model=model_name,
        path_loss_exponent=S.DEFAULT_PATH_LOSS_EXPONENT if exponent is None else exponent,
        noise_floor_dbm=S.DEFAULT_NOISE_FLOOR_DBM if noise is None else noise,
        params=params,
        interferers=tuple(interferers),
    )


def _label(value: object, fallback: str) -> str:
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return f"{fallback.split(' #')[0]} {value['name']!r}"
    return fallback


def _interferer(ck: Checker, value: object, src: Src, index: int) -> S.InterfererSpec | None:
    what = _label(value, f"interferer #{index + 1}")
    m = ck.mapping(value, src, what, _INTERFERER_KEYS, ("name",))
    name = m.get("name", lambda v, s: ck.text(v, s, "an interferer name"))
    if name is not None:
        if name in ck.interferer_names:
            ck.error(m.value_src("name"), f"duplicate interferer name {name!r}")
        ck.interferer_names.add(name)
    kind = m.get("kind", lambda v, s: ck.choice(v, s, S.INTERFERER_KINDS, "interferer kind"))
    kind = kind or (None if "kind" in m else S.DEFAULT_INTERFERER_KIND)
    wifi = m.get("wifi_channel", lambda v, s: ck.integer(v, s, 1, 14, "a Wi-Fi channel"))
    freq = m.get("frequency_mhz", lambda v, s: ck.number(v, s, 2400.0, 2500.0, "a frequency in MHz"))
    ble = m.get("ble_channel", lambda v, s: ck.integer(v, s, 0, 39, "a BLE channel index"))
    center: float | None = None
    if kind == "wifi":
        for key in ("frequency_mhz", "ble_channel"):
            if key in m:
                ck.error(m.key_src(key), f"{key} does not apply to a wifi interferer (use wifi_channel)")
        if "wifi_channel" not in m:
            ck.error(src, f"missing key 'wifi_channel' in {what}")
        elif wifi is not None:
            center = 2484.0 if wifi == 14 else 2412.0 + 5 * (wifi - 1)
    elif kind is not None:
        if "wifi_channel" in m:
            ck.error(m.key_src("wifi_channel"), f"wifi_channel applies only to kind 'wifi', not {kind!r}")
        if ("frequency_mhz" in m) == ("ble_channel" in m):
            ck.error(src, f"{what} needs exactly one of 'frequency_mhz' or 'ble_channel'")
        center = freq if freq is not None else (S.ble_channel_mhz(ble) if ble is not None else None)
        if kind == "tone" and "bandwidth_mhz" in m:
            ck.error(m.key_src("bandwidth_mhz"), "a tone has no bandwidth")
    bandwidth = m.get("bandwidth_mhz", lambda v, s: ck.number(v, s, 0.001, 100.0, "a bandwidth in MHz"))
    position = m.get("position", ck.position)
    power = m.get("tx_power", ck.power)
    duty = m.get("duty_cycle", lambda v, s: ck.number(v, s, 0.0, 1.0, "a duty cycle"))
    if duty == 0.0:
        ck.error(m.value_src("duty_cycle"), "a duty cycle of 0 never transmits; use enabled: false")
    period = m.get("period", lambda v, s: ck.duration(v, s, positive=True))
    enabled = m.get("enabled", lambda v, s: ck.boolean(v, s))
    if name is None or kind is None or center is None:
        return None
    return S.InterfererSpec(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        center_mhz=center,
        bandwidth_mhz=bandwidth if bandwidth is not None else S.DEFAULT_INTERFERER_BANDWIDTH_MHZ[kind],
        position=position or S.DEFAULT_POSITION,
        power_dbm=S.DEFAULT_INTERFERER_POWER_DBM if power is None else power,
        duty_cycle=S.DEFAULT_INTERFERER_DUTY_CYCLE if duty is None else duty,
        period_ns=S.DEFAULT_INTERFERER_PERIOD_NS if period is None else period,
        enabled=True if enabled is None else enabled,
    )


def check_node_names(ck: Checker, value: object, src: Src) -> None:
    """First pass over nodes: their names (for references) and duplicate names."""
    if not isinstance(value, list):
        return
    for _, item, isrc in ck.items(value, src, "nodes"):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        name = item["name"]
        marks = item.value_marks if isinstance(item, MarkedMap) else {}
        nsrc = isrc.child(marks.get("name"), f"{isrc.path}.name")
        if name in ck.node_names:
            first = ck.node_names[name]
            where = f" (first defined at line {first})" if first else ""
            ck.error(nsrc, f"duplicate node name {name!r}{where}")
        else:
            ck.node_names[name] = nsrc.line


def _address(ck: Checker, value: object, src: Src) -> bytes:
    if not isinstance(value, str) or not _ADDRESS_RE.match(value.strip()):
        shown = value if isinstance(value, str) else describe(value)
        raise ck.error(src, f"bad address {shown!r}: expected six hex octets like AC:6B:1E:F5:33:DB"
                       if isinstance(value, str) else
                       f"bad address {shown}: expected six hex octets like AC:6B:1E:F5:33:DB")
    return bytes.fromhex(re.sub(r"[:-]", "", value.strip()))[::-1]


def _features(ck: Checker, value: object, src: Src) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return ck.integer(value, src, 0, 2**64 - 1, "an LE feature mask")
    mask = 0
    bad = False
    for _, item, isrc in ck.items(value, src, "LE feature names"):
        # The specification writes feature names in capitals; either case is accepted.
        name = item.lower() if isinstance(item, str) else item
        try:
            mask |= 1 << S.LE_FEATURE_BITS[ck.choice(name, isrc, S.LE_FEATURE_BITS, "LE feature")]
        except Invalid:
            bad = True
    if bad:
        raise Invalid()
    return mask


def _controller(ck: Checker, value: object, src: Src, node: str) -> S.ControllerSpec:
    m = ck.mapping(value, src, f"controller options of node {node!r}", _CONTROLLER_KEYS)

    def rng(lo: int, hi: int) -> Callable[[object, Src], int]:
        return lambda v, s: ck.integer(v, s, lo, hi)

    return S.ControllerSpec(
        le_acl_data_packet_length=m.get("le_acl_data_packet_length", rng(27, 251)),
        total_num_le_acl_data_packets=m.get("total_num_le_acl_data_packets", rng(1, 255)),
        le_features=m.get("features", lambda v, s: _features(ck, v, s)),
        max_connections=m.get("max_connections", rng(1, 64)),
        filter_accept_list_size=m.get("filter_accept_list_size", rng(0, 255)),
        resolving_list_size=m.get("resolving_list_size", rng(0, 255)),
    )


def check_node(ck: Checker, value: object, src: Src, index: int,
          addresses: dict[bytes, tuple[str, int]]) -> S.NodeSpec | None:
    what = _label(value, f"node #{index + 1}")
    m = ck.mapping(value, src, what, _NODE_KEYS, ("name", "personality"))
    name = m.get("name", lambda v, s: ck.text(v, s, "a node name"))
    if name is not None and not S.NODE_NAME_RE.match(name):
        ck.error(m.value_src("name"),
                 f"bad node name {name!r}: use letters, digits, '_', '-' and '.'")
    personality = m.get("personality", lambda v, s: ck.choice(v, s, S.PERSONALITIES, "personality"))
    firmware: Path | None = None
    if personality == "hci":
        for key, why in (("firmware", "runs no firmware"), ("lib", "runs no firmware")):
            if key in m:
                ck.error(m.key_src(key), f"{key!r} is not used by hci node {name!r}: an hci node {why} "
                                         "(it has 'transport' or 'controller' instead)")
    elif "firmware" in m:
        firmware = m.get("firmware", lambda v, s: ck.path(v, s, "firmware file", "file"))
    elif personality is not None:
        ck.error(src, f"missing key 'firmware' in {what} (personality {personality} runs a firmware file)")
    lib: tuple[Path, ...] = ()
    if "lib" in m and personality != "hci":
        def libs(v: object, s: Src) -> tuple[Path, ...]:
            if isinstance(v, str):
                return (ck.path(v, s, "lib folder", "any"),)
            out: list[Path] = []
            for _, item, isrc in ck.items(v, s, "lib folders"):
                try:
                    out.append(ck.path(item, isrc, "lib folder", "any"))
                except Invalid:
                    pass
            return tuple(out)
        lib = m.get("lib", libs) or ()
    address_type = m.get("address_type", lambda v, s: ck.choice(v, s, ("public", "random"), "address type"))
    raw = m.get("address", lambda v, s: _address(ck, v, s))
    address: Address | None = None
    if raw is not None:
        address = Address(raw, address_type == "random")
        asrc = m.value_src("address")
        if address_type == "random" and raw[5] >> 6 != 0b11:
            ck.error(asrc, f"random static address {str(address)!r} must have its two most "
                           "significant bits set (first octet C0 to FF)")
        if raw in addresses:
            other, line = addresses[raw]
            ck.error(asrc, f"duplicate address {str(address)!r} (also used by node {other!r}"
                           + (f" at line {line})" if line else ")"))
        else:
            addresses[raw] = (name or "?", asrc.line)
    position = m.get("position", ck.position)
    tx_power = m.get("tx_power", ck.power)
    drift = m.get("clock_drift_ppm", lambda v, s: ck.number(v, s, -500.0, 500.0, "a clock drift in ppm"))
    boot = m.get("boot_time", ck.duration)
    latency = m.get("hci_latency", ck.duration)
    controller = S.ControllerSpec()
    controller_transport: str | None = None
    if "controller" in m:
        cv = m.data["controller"]
        if isinstance(cv, str):
            controller_transport = m.get("controller", lambda v, s: ck.text(v, s, "a controller"))
        elif isinstance(cv, dict):
            try:
                controller = _controller(ck, cv, m.value_src("controller"), name or "?")
            except Invalid:  # pragma: no cover - a dict always maps
                pass
        else:
            ck.error(m.value_src("controller"), "expected controller options (a mapping) or a real "
                                                f"controller such as \"usb:0\", got {describe(cv)}")
    transport = m.get("transport", lambda v, s: ck.text(v, s, "a transport such as \"tcp:9000\""))
    if "transport" in m and personality not in (None, "hci"):
        ck.error(m.key_src("transport"), f"'transport' applies only to hci nodes, not {personality}")
    if personality == "hci" and "transport" not in m and not isinstance(m.data.get("controller"), str):
        ck.error(src, f"hci node {name!r} needs 'transport' (where its host connects) or "
                      "'controller' (a real controller such as \"usb:0\")")
    stack = m.get("stack", lambda v, s: ck.choice(v, s, ("nimble", "btstack"), "MicroPython host stack"))
    if "stack" in m and personality not in (None, "micropython"):
        ck.error(m.key_src("stack"), f"'stack' applies only to micropython nodes, not {personality}")
    if name is None or personality is None:
        return None
    return S.NodeSpec(
        stack=stack,  # type: ignore[arg-type]
        name=name,
        personality=personality,  # type: ignore[arg-type]
        firmware=firmware,
        lib=lib,
        position=position or S.DEFAULT_POSITION,
        address=address,
        address_type=address_type or S.DEFAULT_ADDRESS_TYPE,  # type: ignore[arg-type]
        tx_power_dbm=S.DEFAULT_TX_POWER_DBM if tx_power is None else tx_power,
        clock_drift_ppm=S.DEFAULT_CLOCK_DRIFT_PPM if drift is None else drift,
        boot_time_ns=S.DEFAULT_BOOT_TIME_NS if boot is None else boot,
        hci_latency_ns=S.DEFAULT_HCI_LATENCY_NS if latency is None else latency,
        controller=controller,
        controller_transport=controller_transport,
        transport=transport,
    )


def check_capture(ck: Checker, value: object, src: Src) -> S.CaptureSpec:
    m = ck.mapping(value, src, "capture", _CAPTURE_KEYS)
    fmt = m.get("hci_format", lambda v, s: ck.choice(v, s, ("btsnoop", "pcap"), "HCI capture format"))
    return S.CaptureSpec(
        air=m.get("air", lambda v, s: ck.path(v, s, "air capture file", None)),
        hci=m.get("hci", lambda v, s: ck.path(v, s, "HCI capture folder", None)),
        hci_format=fmt or S.DEFAULT_HCI_FORMAT,  # type: ignore[arg-type]
        logs=m.get("logs", lambda v, s: ck.path(v, s, "log folder", None)),
    )
