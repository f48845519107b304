"""Scenario defaults and vocabularies: every default value and every allowed name, in one place.

Theory of operation
-------------------
All defaults of a scenario file live in the ``DEFAULT_*`` constants (times in integer
nanoseconds), listed by YAML place in :data:`DEFAULTS` for ``blesim validate`` and the
docs; the dataclasses of :mod:`emu.scenario_schema` / :mod:`emu.scenario_events` and the
loader all read them, so they cannot disagree. The vocabularies a scenario may use
(personalities, channel models, interferer kinds, PHY names, PDU names for ``air``
expectations, LE feature names) are here too, for the modules that implement them to
check against. :mod:`emu.scenario_schema` re-exports every name.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Literal, Mapping

from phy.types import Phy
from phy.units import MS, S

__all__ = [
    "DEFAULTS",
    "NODE_NAME_RE",
    "PERSONALITIES",
    "CHANNEL_MODELS",
    "INTERFERER_KINDS",
    "AIR_PDU_NAMES",
    "LE_FEATURE_BITS",
    "PHY_NAMES",
    "ADVERTISING_ACCESS_ADDRESS",
    "Position",
    "ble_channel_mhz",
    "DEFAULT_SEED",
    "DEFAULT_DURATION_NS",
    "DEFAULT_STOP_WHEN",
    "DEFAULT_CHANNEL_MODEL",
    "DEFAULT_PATH_LOSS_EXPONENT",
    "DEFAULT_NOISE_FLOOR_DBM",
    "DEFAULT_POSITION",
    "DEFAULT_ADDRESS_TYPE",
    "DEFAULT_TX_POWER_DBM",
    "DEFAULT_CLOCK_DRIFT_PPM",
    "DEFAULT_BOOT_TIME_NS",
    "DEFAULT_HCI_LATENCY_NS",
    "DEFAULT_HCI_FORMAT",
    "DEFAULT_INTERFERER_KIND",
    "DEFAULT_INTERFERER_POWER_DBM",
    "DEFAULT_INTERFERER_BANDWIDTH_MHZ",
    "DEFAULT_INTERFERER_DUTY_CYCLE",
    "DEFAULT_INTERFERER_PERIOD_NS",
    "DEFAULT_OUTPUT_MIN_COUNT",
    "DEFAULT_AIR_MIN",
    "DEFAULT_INJECT_PHY",
]

#: A position in metres, (x, y, z).
Position = tuple[float, float, float]

# Every default of a scenario file, in one place (times in nanoseconds). The dataclass
# fields and the loader use these names; DEFAULTS lists them for documentation.
DEFAULT_SEED = 0
DEFAULT_DURATION_NS = 10 * S
DEFAULT_STOP_WHEN: Literal["duration", "expectations"] = "duration"
DEFAULT_CHANNEL_MODEL = "log_distance"
DEFAULT_PATH_LOSS_EXPONENT = 2.0
DEFAULT_NOISE_FLOOR_DBM = -100.0
DEFAULT_POSITION: tuple[float, float, float] = (0.0, 0.0, 0.0)
DEFAULT_ADDRESS_TYPE: Literal["public", "random"] = "public"
DEFAULT_TX_POWER_DBM = 0.0
DEFAULT_CLOCK_DRIFT_PPM = 20.0
DEFAULT_BOOT_TIME_NS = 0
DEFAULT_HCI_LATENCY_NS = 0
DEFAULT_HCI_FORMAT: Literal["btsnoop", "pcap"] = "btsnoop"
DEFAULT_INTERFERER_KIND: Literal["wifi", "tone", "noise"] = "noise"
DEFAULT_INTERFERER_POWER_DBM = 0.0
DEFAULT_INTERFERER_BANDWIDTH_MHZ: Mapping[str, float] = MappingProxyType(
    {"wifi": 20.0, "tone": 0.0, "noise": 2.0}
)
DEFAULT_INTERFERER_DUTY_CYCLE = 1.0
DEFAULT_INTERFERER_PERIOD_NS = 10 * MS
DEFAULT_OUTPUT_MIN_COUNT = 1
DEFAULT_AIR_MIN = 1
#: The advertising channel access address (Vol 6 Part B 2.1.2), default of ``inject``.
ADVERTISING_ACCESS_ADDRESS = 0x8E89BED6
DEFAULT_INJECT_PHY = "1M"

#: The defaults above by their YAML place, for ``blesim validate`` and the docs.
DEFAULTS: Mapping[str, object] = MappingProxyType(
    {
        "seed": DEFAULT_SEED,
        "duration": "10s",
        "stop_when": DEFAULT_STOP_WHEN,
        "medium.model": DEFAULT_CHANNEL_MODEL,
        "medium.path_loss_exponent": DEFAULT_PATH_LOSS_EXPONENT,
        "medium.noise_floor_dbm": DEFAULT_NOISE_FLOOR_DBM,
        "medium.interferers[].kind": DEFAULT_INTERFERER_KIND,
        "medium.interferers[].power_dbm": DEFAULT_INTERFERER_POWER_DBM,
        "medium.interferers[].bandwidth_mhz": dict(DEFAULT_INTERFERER_BANDWIDTH_MHZ),
        "medium.interferers[].duty_cycle": DEFAULT_INTERFERER_DUTY_CYCLE,
        "medium.interferers[].period": "10ms",
        "medium.interferers[].enabled": True,
        "nodes[].position": [0, 0],
        "nodes[].address": "assigned from the seed",
        "nodes[].address_type": DEFAULT_ADDRESS_TYPE,
        "nodes[].tx_power": DEFAULT_TX_POWER_DBM,
        "nodes[].clock_drift_ppm": DEFAULT_CLOCK_DRIFT_PPM,
        "nodes[].boot_time": "0s",
        "nodes[].hci_latency": "0s",
        "nodes[].controller.*": "the simulated controller's own default",
        "capture.hci_format": DEFAULT_HCI_FORMAT,
        "expect[].min_count": DEFAULT_OUTPUT_MIN_COUNT,
        "expect[].by": "the end of the run",
        "expect[].value": True,
        "expect[].air.min": "1 when neither min nor max is given",
        "timeline[].inject.access_address": "0x8E89BED6",
        "timeline[].inject.phy": DEFAULT_INJECT_PHY,
        "timeline[].inject.position": [0, 0],
        "timeline[].inject.tx_power": 0.0,
    }
)

#: Node personalities. ``hci`` nodes run no firmware: their host is outside
#: (``transport:``) or their controller is a real one (``controller: "usb:0"``).
PERSONALITIES: tuple[str, ...] = ("micropython", "quectel", "circuitpython", "native", "hci")

#: Channel models by name, with the parameters each accepts (``medium.params``) and their
#: defaults. ``path_loss_exponent`` is a field of :class:`MediumSpec`, used by
#: ``log_distance``. The medium's model registry must know these names.
CHANNEL_MODELS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "log_distance": MappingProxyType(
            {"reference_distance_m": 1.0, "reference_loss_db": 40.0, "shadowing_sigma_db": 0.0}
        ),
        "free_space": MappingProxyType({}),
        "fixed": MappingProxyType({"loss_db": 0.0}),
    }
)

#: Interferer kinds: ``wifi`` (a Wi-Fi channel, 20 MHz wide), ``tone`` (a carrier on one
#: frequency) and ``noise`` (a band of noise around a frequency).
INTERFERER_KINDS: tuple[str, ...] = ("wifi", "tone", "noise")

#: The PHY names an ``inject`` event may use.
PHY_NAMES: Mapping[str, Phy] = MappingProxyType(
    {"1M": Phy.LE_1M, "2M": Phy.LE_2M, "S2": Phy.LE_CODED_S2, "S8": Phy.LE_CODED_S8}
)

_ADV_PDUS = (
    # Vol 6 Part B 2.3 (advertising physical channel PDUs)
    "ADV_IND", "ADV_DIRECT_IND", "ADV_NONCONN_IND", "ADV_SCAN_IND", "SCAN_REQ", "SCAN_RSP",
    "CONNECT_IND", "ADV_EXT_IND", "AUX_ADV_IND", "AUX_SCAN_REQ", "AUX_SCAN_RSP",
    "AUX_CONNECT_REQ", "AUX_CONNECT_RSP", "AUX_CHAIN_IND", "AUX_SYNC_IND",
)
_LL_CONTROL_PDUS = (
    # Vol 6 Part B 2.4.2 (LL control PDUs)
    "LL_CONNECTION_UPDATE_IND", "LL_CHANNEL_MAP_IND", "LL_TERMINATE_IND", "LL_ENC_REQ",
    "LL_ENC_RSP", "LL_START_ENC_REQ", "LL_START_ENC_RSP", "LL_UNKNOWN_RSP", "LL_FEATURE_REQ",
    "LL_FEATURE_RSP", "LL_PAUSE_ENC_REQ", "LL_PAUSE_ENC_RSP", "LL_VERSION_IND",
    "LL_REJECT_IND", "LL_PERIPHERAL_FEATURE_REQ", "LL_CONNECTION_PARAM_REQ",
    "LL_CONNECTION_PARAM_RSP", "LL_REJECT_EXT_IND", "LL_PING_REQ", "LL_PING_RSP",
    "LL_LENGTH_REQ", "LL_LENGTH_RSP", "LL_PHY_REQ", "LL_PHY_RSP", "LL_PHY_UPDATE_IND",
    "LL_MIN_USED_CHANNELS_IND",
)
_ATT_PDUS = (
    # Vol 3 Part F 3.4
    "ATT_ERROR_RSP", "ATT_EXCHANGE_MTU_REQ", "ATT_EXCHANGE_MTU_RSP",
    "ATT_FIND_INFORMATION_REQ", "ATT_FIND_INFORMATION_RSP", "ATT_FIND_BY_TYPE_VALUE_REQ",
    "ATT_FIND_BY_TYPE_VALUE_RSP", "ATT_READ_BY_TYPE_REQ", "ATT_READ_BY_TYPE_RSP",
    "ATT_READ_REQ", "ATT_READ_RSP", "ATT_READ_BLOB_REQ", "ATT_READ_BLOB_RSP",
    "ATT_READ_MULTIPLE_REQ", "ATT_READ_MULTIPLE_RSP", "ATT_READ_BY_GROUP_TYPE_REQ",
    "ATT_READ_BY_GROUP_TYPE_RSP", "ATT_READ_MULTIPLE_VARIABLE_REQ",
    "ATT_READ_MULTIPLE_VARIABLE_RSP", "ATT_WRITE_REQ", "ATT_WRITE_RSP", "ATT_WRITE_CMD",
    "ATT_SIGNED_WRITE_CMD", "ATT_PREPARE_WRITE_REQ", "ATT_PREPARE_WRITE_RSP",
    "ATT_EXECUTE_WRITE_REQ", "ATT_EXECUTE_WRITE_RSP", "ATT_HANDLE_VALUE_NTF",
    "ATT_HANDLE_VALUE_IND", "ATT_HANDLE_VALUE_CFM", "ATT_MULTIPLE_HANDLE_VALUE_NTF",
)
_SMP_PDUS = (
    # Vol 3 Part H 3.3 (codes 0x01-0x0E)
    "SMP_PAIRING_REQUEST", "SMP_PAIRING_RESPONSE", "SMP_PAIRING_CONFIRM",
    "SMP_PAIRING_RANDOM", "SMP_PAIRING_FAILED", "SMP_ENCRYPTION_INFORMATION",
    "SMP_CENTRAL_IDENTIFICATION", "SMP_IDENTITY_INFORMATION",
    "SMP_IDENTITY_ADDRESS_INFORMATION", "SMP_SIGNING_INFORMATION", "SMP_SECURITY_REQUEST",
    "SMP_PAIRING_PUBLIC_KEY", "SMP_PAIRING_DHKEY_CHECK", "SMP_PAIRING_KEYPRESS_NOTIFICATION",
)

#: PDU names an ``air`` expectation may count: advertising PDUs, LL control PDUs, ATT
#: and SMP PDUs (spec names), plus ``LL_EMPTY`` (empty data PDU) and ``LL_DATA`` (any
#: data-channel PDU carrying L2CAP).
AIR_PDU_NAMES: frozenset[str] = frozenset(
    _ADV_PDUS + _LL_CONTROL_PDUS + _ATT_PDUS + _SMP_PDUS + ("LL_EMPTY", "LL_DATA")
)

#: LE feature names for ``controller: {features: [...]}`` -> bit number in the
#: FeatureSet (Vol 6 Part B 4.6).
LE_FEATURE_BITS: Mapping[str, int] = MappingProxyType(
    {
        "le_encryption": 0,
        "connection_parameters_request": 1,
        "extended_reject_indication": 2,
        "peripheral_initiated_features_exchange": 3,
        "le_ping": 4,
        "le_data_packet_length_extension": 5,
        "ll_privacy": 6,
        "extended_scanner_filter_policies": 7,
        "le_2m_phy": 8,
        "stable_modulation_index_transmitter": 9,
        "stable_modulation_index_receiver": 10,
        "le_coded_phy": 11,
        "le_extended_advertising": 12,
        "le_periodic_advertising": 13,
        "channel_selection_algorithm_2": 14,
        "le_power_class_1": 15,
        "minimum_number_of_used_channels_procedure": 16,
    }
)

NODE_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def ble_channel_mhz(channel: int) -> float:
    """Centre frequency of BLE channel index 0-39 (Vol 6 Part B 1.4.1)."""
    if channel == 37:
        return 2402.0
    if channel == 38:
        return 2426.0
    if channel == 39:
        return 2480.0
    if 0 <= channel <= 10:
        return 2404.0 + 2 * channel
    if 11 <= channel <= 36:
        return 2428.0 + 2 * (channel - 11)
    raise ValueError(f"BLE channel index out of range: {channel}")

