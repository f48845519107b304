"""CRC-24, whitening and LL AES-CCM against /work/shared/vectors and independent code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.bluetooth4LE import BTLE

from linklayer.crypto import (
    ADV_CRC_INIT,
    CryptoError,
    LlCipher,
    MAX_PACKET_COUNTER,
    MicFailure,
    aes128,
    check_crc,
    crc24,
    crc24_bytes,
    session_key,
    swap_octet_order,
    whiten,
    whitening_keystream,
)

VECTORS = Path("/work/shared/vectors")
CRC_WHITENING: dict[str, Any] = json.loads((VECTORS / "crc_whitening.json").read_text())
LL_CCM: dict[str, Any] = json.loads((VECTORS / "ll_ccm.json").read_text())
CRC_EXAMPLES: list[dict[str, Any]] = CRC_WHITENING["crc_examples"]
PACKETS: list[dict[str, Any]] = LL_CCM["packets"]
INPUTS: dict[str, str] = LL_CCM["inputs"]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- byte order -----------------------------------------------------------------------


def test_swap_octet_order() -> None:
    assert swap_octet_order(h(INPUTS["IV"])) == h(INPUTS["IV_on_air_order"])
    assert swap_octet_order(swap_octet_order(b"\x01\x02\x03")) == b"\x01\x02\x03"


# --- CRC ------------------------------------------------------------------------------


def bitwise_crc(crc_init: int, pdu: bytes) -> int:
    """The spec's LFSR one bit at a time (Vol 6 Part B 3.1.1), as an independent oracle."""
    reg = crc_init
    for octet in pdu:
        for i in range(8):
            feedback = ((reg >> 23) & 1) ^ ((octet >> i) & 1)
            reg = (reg << 1) & 0xFFFFFF
            if feedback:
                reg ^= 0x00065B
    return reg


@pytest.mark.parametrize(
    "example", CRC_EXAMPLES, ids=[f"{e['description'][:20]}-{e['crc_init']}" for e in CRC_EXAMPLES]
)
def test_crc_vectors(example: dict[str, Any]) -> None:
    crc_init = int(example["crc_init"], 16)
    pdu = h(example["pdu"])
    assert crc24(crc_init, pdu) == int(example["crc_value"], 16)
    assert crc24_bytes(crc_init, pdu) == h(example["crc_bytes_on_air"])
    assert check_crc(crc_init, pdu, h(example["crc_bytes_on_air"]))
    flipped = bytes([pdu[0] ^ 0x01]) + pdu[1:]
    assert not check_crc(crc_init, flipped, h(example["crc_bytes_on_air"]))


def test_adv_crc_init_constant() -> None:
    assert ADV_CRC_INIT == int(CRC_WHITENING["adv_crc_init"], 16)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFFFF), st.binary(max_size=300))
def test_crc_matches_bitwise_lfsr(crc_init: int, pdu: bytes) -> None:
    assert crc24(crc_init, pdu) == bitwise_crc(crc_init, pdu)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=2, max_size=257))
def test_crc_bytes_match_scapy(pdu: bytes) -> None:
    # scapy's BTLE.compute_crc is an independent implementation (advertising CRCInit).
    assert crc24_bytes(ADV_CRC_INIT, pdu) == BTLE.compute_crc(pdu)  # type: ignore[no-untyped-call]


def test_check_crc_rejects_wrong_length() -> None:
    pdu = h(CRC_EXAMPLES[0]["pdu"])
    assert not check_crc(ADV_CRC_INIT, pdu, h(CRC_EXAMPLES[0]["crc_bytes_on_air"])[:2])


def test_crc_init_out_of_range() -> None:
    with pytest.raises(CryptoError):
        crc24(1 << 24, b"")


# --- whitening ------------------------------------------------------------------------

KEYSTREAMS: dict[str, str] = CRC_WHITENING["whitening"][
    "keystream_first_16_octets_by_channel_index"
]


def bitwise_whitening_keystream(channel: int, length: int) -> bytes:
    """The spec's 7-bit LFSR, x^7 + x^4 + 1, one bit at a time (Vol 6 Part B 3.2)."""
    reg = [1] + [(channel >> (5 - i)) & 1 for i in range(6)]  # positions 0..6
    out = bytearray()
    for _ in range(length):
        octet = 0
        for bit in range(8):
            x7 = reg[6]
            octet |= x7 << bit
            reg = [x7, reg[0], reg[1], reg[2], reg[3] ^ x7, reg[4], reg[5]]
        out.append(octet)
    return bytes(out)


KEYSTREAM_CHANNELS: list[str] = sorted(KEYSTREAMS, key=lambda c: int(str(c)))


@pytest.mark.parametrize("channel", KEYSTREAM_CHANNELS)
def test_whitening_keystream_vectors(channel: str) -> None:
    assert whitening_keystream(int(channel), 16) == h(KEYSTREAMS[channel])
    assert whiten(int(channel), bytes(16)) == h(KEYSTREAMS[channel])


def test_whitened_adv_ind_vector() -> None:
    example = CRC_WHITENING["whitening"]["example"]
    plain = h(example["pdu_plus_crc"])
    assert whiten(example["channel_index"], plain) == h(example["whitened"])
    assert whiten(example["channel_index"], h(example["whitened"])) == plain


@pytest.mark.parametrize("channel", range(40))
def test_whitening_all_channels_match_bitwise(channel: int) -> None:
    # 300 octets: longer than the 127-octet cached period, exercises the repeat.
    assert whitening_keystream(channel, 300) == bitwise_whitening_keystream(channel, 300)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 39), st.binary(max_size=300))
def test_whitening_is_an_involution(channel: int, data: bytes) -> None:
    assert whiten(channel, whiten(channel, data)) == data
    assert len(whiten(channel, data)) == len(data)


def test_whitening_channel_out_of_range() -> None:
    with pytest.raises(CryptoError):
        whiten(40, b"\x00")


# --- AES / session key ----------------------------------------------------------------


def test_aes128_fips197_example() -> None:
    # FIPS-197 Appendix C.1.
    key = h("000102030405060708090a0b0c0d0e0f")
    plain = h("00112233445566778899aabbccddeeff")
    assert aes128(key, plain) == h("69c4e0d86a7b0430d8cdb78070b4c55a")


def test_aes128_sizes() -> None:
    with pytest.raises(CryptoError):
        aes128(bytes(15), bytes(16))


def test_session_key_vector() -> None:
    sk = session_key(h(INPUTS["LTK"]), h(INPUTS["SKDm"]), h(INPUTS["SKDs"]))
    assert sk == h(LL_CCM["session_key"]["SK"])
    assert h(INPUTS["SKD"]) == h(INPUTS["SKDs"]) + h(INPUTS["SKDm"])


def make_cipher() -> LlCipher:
    return LlCipher(h(LL_CCM["session_key"]["SK"]), h(INPUTS["IV"]))


def make_cipher_from_air() -> LlCipher:
    return LlCipher.from_air(
        swap_octet_order(h(INPUTS["LTK"])),
        swap_octet_order(h(INPUTS["SKDm"])),
        swap_octet_order(h(INPUTS["IVm"])),
        swap_octet_order(h(INPUTS["SKDs"])),
        swap_octet_order(h(INPUTS["IVs"])),
    )


def plaintext_pdu(packet: dict[str, Any]) -> bytes:
    return bytes([int(packet["header_octet0"], 16), packet["plaintext_length"]]) + h(
        packet["plaintext_payload"]
    )


def is_central(packet: dict[str, Any]) -> bool:
    return bool(packet["direction"] == "central_to_peripheral")


@pytest.mark.parametrize("packet", PACKETS, ids=[p["name"] for p in PACKETS])
def test_ccm_packet_vectors(packet: dict[str, Any]) -> None:
    cipher = make_cipher()
    central = is_central(packet)
    counter = packet["packet_counter"]
    assert cipher.nonce(counter, central) == h(packet["nonce"])
    header0 = int(packet["header_octet0"], 16)
    body = cipher.encrypt(header0, h(packet["plaintext_payload"]), central, counter=counter)
    assert body == h(packet["encrypted_payload_and_mic"])
    assert body[-4:] == h(packet["mic"])
    pdu = cipher.encrypt_pdu(plaintext_pdu(packet), central, counter=counter)
    assert pdu == h(packet["encrypted_pdu_on_air"])
    assert pdu[1] == packet["plaintext_length"] + 4
    assert cipher.decrypt_pdu(h(packet["encrypted_pdu_on_air"]), central, counter) == (
        plaintext_pdu(packet)
    )


def test_ccm_sequence_with_implicit_counters() -> None:
    """Both sides replay the sample exchange in order, counters kept by the cipher."""
    central_side = make_cipher()
    peripheral_side = make_cipher_from_air()
    for packet in PACKETS:
        central = is_central(packet)
        sender, receiver = (
            (central_side, peripheral_side) if central else (peripheral_side, central_side)
        )
        assert sender.counter(central) == packet["packet_counter"]
        on_air = sender.encrypt_pdu(plaintext_pdu(packet), central)
        assert on_air == h(packet["encrypted_pdu_on_air"])
        assert receiver.decrypt_pdu(on_air, central) == plaintext_pdu(packet)
    for side in (central_side, peripheral_side):
        assert side.counter(True) == 2
        assert side.counter(False) == 2


def test_retransmission_reuses_counter_and_nesn_sn_md_are_not_authenticated() -> None:
    tx = make_cipher()
    rx = make_cipher()
    first = tx.encrypt(0x02, b"hello", True)
    assert tx.counter(True) == 1
    again = tx.encrypt(0x02 | 0x1C, b"hello", True, counter=0)  # SN, NESN, MD changed
    assert again == first
    assert tx.counter(True) == 1  # explicit counter: no advance
    assert rx.decrypt(0x02 | 0x1C, first, True) == b"hello"
    assert rx.counter(True) == 1
    # The duplicate is decrypted with its original counter without advancing.
    assert rx.decrypt(0x02, first, True, counter=0) == b"hello"
    assert rx.counter(True) == 1


def test_llid_is_authenticated() -> None:
    cipher = make_cipher()
    body = cipher.encrypt(0x02, b"data", True, counter=5)
    with pytest.raises(MicFailure):
        cipher.decrypt(0x03, body, True, counter=5)


def test_wrong_direction_or_counter_fails() -> None:
    cipher = make_cipher()
    body = cipher.encrypt(0x02, b"data", True, counter=5)
    with pytest.raises(MicFailure):
        cipher.decrypt(0x02, body, False, counter=5)
    with pytest.raises(MicFailure):
        cipher.decrypt(0x02, body, True, counter=6)
    assert cipher.counter(True) == 0


def test_mic_failure_does_not_advance() -> None:
    cipher = make_cipher()
    with pytest.raises(MicFailure):
        cipher.decrypt(0x02, bytes(9), True)
    assert cipher.counter(True) == 0


def test_too_short_for_mic() -> None:
    with pytest.raises(MicFailure):
        make_cipher().decrypt(0x02, b"\x00\x01\x02\x03", True)
    assert issubclass(MicFailure, ValueError)


def test_empty_pdu_is_not_encrypted() -> None:
    cipher = make_cipher()
    empty = bytes([0x01, 0x00])
    assert cipher.encrypt_pdu(empty, True) == empty
    assert cipher.decrypt_pdu(empty, False) == empty
    assert cipher.encrypt(0x01, b"", True) == b""
    assert cipher.counter(True) == 0
    assert cipher.counter(False) == 0


def test_cte_info_octet_stays_in_clear() -> None:
    cipher = make_cipher()
    plain = bytes([0x22, 3, 0x14]) + b"abc"  # CP = 1, CTEInfo 0x14
    on_air = cipher.encrypt_pdu(plain, True, counter=0)
    assert on_air[:3] == bytes([0x22, 7, 0x14])
    assert cipher.encrypt(0x22, b"abc", True, counter=0) == on_air[3:]
    assert cipher.decrypt_pdu(on_air, True, counter=0) == plain


def test_malformed_pdus() -> None:
    cipher = make_cipher()
    with pytest.raises(CryptoError):
        cipher.encrypt_pdu(b"\x02", True)
    with pytest.raises(CryptoError):
        cipher.encrypt_pdu(b"\x02\x05abc", True)
    with pytest.raises(CryptoError):
        cipher.encrypt(0x02, bytes(252), True)
    with pytest.raises(CryptoError):
        cipher.nonce(MAX_PACKET_COUNTER + 1, True)
    with pytest.raises(CryptoError):
        LlCipher(bytes(16), bytes(4))


def test_nonce_direction_bit_at_max_counter() -> None:
    cipher = make_cipher()
    assert cipher.nonce(MAX_PACKET_COUNTER, True)[:5] == b"\xff\xff\xff\xff\xff"
    assert cipher.nonce(MAX_PACKET_COUNTER, False)[:5] == b"\xff\xff\xff\xff\x7f"


def test_counter_exhaustion_is_reported() -> None:
    sk, iv = h(LL_CCM["session_key"]["SK"]), h(INPUTS["IV"])
    cipher = LlCipher(sk, iv, central_counter=MAX_PACKET_COUNTER - 1)
    cipher.encrypt(0x02, b"x", True)
    assert cipher.counter(True) == MAX_PACKET_COUNTER
    last = cipher.encrypt(0x02, b"x", True)  # the last value is still usable
    assert cipher.decrypt(0x02, last, True, counter=MAX_PACKET_COUNTER) == b"x"
    assert cipher.counter(True) == MAX_PACKET_COUNTER + 1
    with pytest.raises(CryptoError):
        cipher.encrypt(0x02, b"x", True)
    cipher.encrypt(0x02, b"x", True, counter=MAX_PACKET_COUNTER)  # explicit: allowed
    with pytest.raises(CryptoError):
        LlCipher(sk, iv, peripheral_counter=MAX_PACKET_COUNTER + 1)


def test_initial_counters() -> None:
    cipher = LlCipher(h(LL_CCM["session_key"]["SK"]), h(INPUTS["IV"]), 1, 1)
    data1 = next(p for p in PACKETS if p["name"] == "LL_DATA1")
    assert cipher.encrypt_pdu(plaintext_pdu(data1), True) == h(data1["encrypted_pdu_on_air"])
    assert cipher.counter(True) == 2
    assert cipher.counter(False) == 1


@settings(max_examples=100, deadline=None)
@given(
    st.binary(min_size=16, max_size=16),
    st.binary(min_size=8, max_size=8),
    st.integers(0, 255),
    st.binary(min_size=1, max_size=251),
    st.booleans(),
    st.integers(0, MAX_PACKET_COUNTER),
    st.data(),
)
def test_encrypt_decrypt_round_trip_and_bit_flip(
    sk: bytes,
    iv: bytes,
    header0: int,
    payload: bytes,
    central: bool,
    counter: int,
    data: st.DataObject,
) -> None:
    cipher = LlCipher(sk, iv)
    body = cipher.encrypt(header0, payload, central, counter=counter)
    assert len(body) == len(payload) + 4
    assert cipher.decrypt(header0, body, central, counter=counter) == payload
    bit = data.draw(st.integers(0, 8 * len(body) - 1))
    corrupted = bytearray(body)
    corrupted[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(MicFailure):
        cipher.decrypt(header0, bytes(corrupted), central, counter=counter)
