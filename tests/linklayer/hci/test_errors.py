"""Controller error codes (Vol 1 Part F)."""

from __future__ import annotations

from linklayer.hci.errors import ErrorCode, error_name

# Restated from Vol 1 Part F 1.3.
SPEC_CODES = {
    0x00: "SUCCESS",
    0x01: "UNKNOWN_HCI_COMMAND",
    0x02: "UNKNOWN_CONNECTION_IDENTIFIER",
    0x05: "AUTHENTICATION_FAILURE",
    0x06: "PIN_OR_KEY_MISSING",
    0x07: "MEMORY_CAPACITY_EXCEEDED",
    0x08: "CONNECTION_TIMEOUT",
    0x09: "CONNECTION_LIMIT_EXCEEDED",
    0x0C: "COMMAND_DISALLOWED",
    0x0D: "CONNECTION_REJECTED_DUE_TO_LIMITED_RESOURCES",
    0x11: "UNSUPPORTED_FEATURE_OR_PARAMETER_VALUE",
    0x12: "INVALID_HCI_COMMAND_PARAMETERS",
    0x13: "REMOTE_USER_TERMINATED_CONNECTION",
    0x14: "REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_LOW_RESOURCES",
    0x15: "REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF",
    0x16: "CONNECTION_TERMINATED_BY_LOCAL_HOST",
    0x1A: "UNSUPPORTED_REMOTE_FEATURE",
    0x1E: "INVALID_LMP_PARAMETERS",
    0x1F: "UNSPECIFIED_ERROR",
    0x20: "UNSUPPORTED_LMP_PARAMETER_VALUE",
    0x22: "LMP_RESPONSE_TIMEOUT",
    0x23: "LMP_ERROR_TRANSACTION_COLLISION",
    0x24: "LMP_PDU_NOT_ALLOWED",
    0x28: "INSTANT_PASSED",
    0x2A: "DIFFERENT_TRANSACTION_COLLISION",
    0x2F: "INSUFFICIENT_SECURITY",
    0x3A: "CONTROLLER_BUSY",
    0x3B: "UNACCEPTABLE_CONNECTION_PARAMETERS",
    0x3C: "ADVERTISING_TIMEOUT",
    0x3D: "CONNECTION_TERMINATED_DUE_TO_MIC_FAILURE",
    0x3E: "CONNECTION_FAILED_TO_BE_ESTABLISHED",
    0x42: "UNKNOWN_ADVERTISING_IDENTIFIER",
    0x43: "LIMIT_REACHED",
    0x44: "OPERATION_CANCELLED_BY_HOST",
    0x45: "PACKET_TOO_LONG",
}
RESERVED = {0x2B, 0x31, 0x33}


def test_spec_values() -> None:
    for value, name in SPEC_CODES.items():
        assert ErrorCode[name] == value
        assert ErrorCode(value).name == name


def test_every_code_from_0x00_to_0x45_is_named() -> None:
    for value in range(0x46):
        if value in RESERVED:
            assert value not in {int(e) for e in ErrorCode}
        else:
            assert ErrorCode(value) == value


def test_le_aliases() -> None:
    assert ErrorCode["LL_RESPONSE_TIMEOUT"] is ErrorCode.LMP_RESPONSE_TIMEOUT
    assert ErrorCode["LL_PROCEDURE_COLLISION"] is ErrorCode(0x23)
    assert ErrorCode["INVALID_LL_PARAMETERS"] is ErrorCode(0x1E)
    assert ErrorCode["UNSUPPORTED_LL_PARAMETER_VALUE"] is ErrorCode(0x20)
    assert ErrorCode["UNSUPPORTED_LMP_FEATURE"] is ErrorCode.UNSUPPORTED_REMOTE_FEATURE


def test_error_name() -> None:
    assert error_name(0x28) == "INSTANT_PASSED (0x28)"
    assert error_name(0x2B) == "reserved error code 0x2B"
