"""Link-layer bit processing and encryption: CRC-24, whitening, AES-CCM.

Theory of operation
-------------------
Every packet on the air is ``preamble | access address | PDU | CRC``. The transmitter
appends a 24-bit CRC computed over the PDU (Vol 6 Part B 3.1.1), then whitens PDU and
CRC with a 7-bit LFSR seeded from the channel index (Vol 6 Part B 3.2). Both are
bit-serial algorithms in the specification; here they are table driven, one table
lookup per octet, because the controller runs them for every packet.

*CRC.* The spec's LFSR has positions 0..23, is preset with CRCInit (bit 0 of CRCInit in
position 0), takes the PDU bits least significant bit first and sends position 23 first.
:func:`crc24` returns that register as an integer (Wireshark's ``btle.crc`` field);
:func:`crc24_bytes` returns the three octets as they follow the PDU in a capture. The
loop runs on the bit-reversed register, which makes it an ordinary reflected CRC.

*Whitening* XORs PDU and CRC with the LFSR's output; it is its own inverse. The
keystream only depends on the channel index, so it is computed once per channel.

*Encryption* (Vol 6 Part E; sample data Vol 6 Part C 1). The session key is
``SK = e(LTK, SKDs || SKDm)``; the payload of every non-empty data channel PDU is
encrypted with AES-CCM (4-octet MIC, 13-octet nonce, one AAD octet). The nonce is the
39-bit packet counter of the sending direction (5 octets, least significant first,
direction bit in bit 7 of the fifth octet: 1 when the central sends) followed by the
IV in air order (IVm then IVs, each least significant octet first; printed MSB-first
the IV is ``IVs || IVm``). :class:`LlCipher` holds SK, IV and the two counters.

*Byte order.* The specification prints keys and other long values most significant
octet first (MSB-first), which is also the order AES consumes; the air and the HCI carry
them least significant octet first. :func:`swap_octet_order` is the one helper that
converts between the two; every function below says which order it takes.
"""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from cryptography.exceptions import InvalidTag

__all__ = [
    "ADV_CRC_INIT",
    "CryptoError",
    "LlCipher",
    "MAX_PACKET_COUNTER",
    "MIC_LENGTH",
    "MicFailure",
    "aes128",
    "check_crc",
    "crc24",
    "crc24_bytes",
    "session_key",
    "swap_octet_order",
    "whiten",
    "whitening_keystream",
]


class CryptoError(ValueError):
    """Base class of the errors raised by this module."""


class MicFailure(CryptoError):
    """An encrypted PDU failed authentication (Vol 6 Part E 1): the MIC does not match,
    or the PDU is too short to hold one. The link layer terminates the connection with
    error code 0x3D (Connection Terminated due to MIC Failure)."""


def swap_octet_order(data: bytes) -> bytes:
    """Convert between MSB-first (as the spec prints values) and air/HCI order.

    The one helper for this conversion (STYLE.md point 6). Reversing the octets is its
    own inverse, so the same call goes either way.
    """
    return bytes(reversed(data))


# ---------------------------------------------------------------------------------------
# CRC-24 (Vol 6 Part B 3.1.1)
# ---------------------------------------------------------------------------------------

#: CRCInit of every advertising physical channel PDU (Vol 6 Part B 3.1.1).
ADV_CRC_INIT = 0x555555

_CRC_POLY = 0x00065B  # x^24 + x^10 + x^9 + x^6 + x^4 + x^3 + x + 1 (x^24 implicit)


def _reverse_bits(value: int, width: int) -> int:
    out = 0
    for _ in range(width):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


_REV8: tuple[int, ...] = tuple(_reverse_bits(i, 8) for i in range(256))
_CRC_POLY_REFLECTED = _reverse_bits(_CRC_POLY, 24)


def _crc_table_entry(index: int) -> int:
    reg = index
    for _ in range(8):
        reg = (reg >> 1) ^ _CRC_POLY_REFLECTED if reg & 1 else reg >> 1
    return reg


_CRC_TABLE: tuple[int, ...] = tuple(_crc_table_entry(i) for i in range(256))


def _rev24(value: int) -> int:
    return (
        (_REV8[value & 0xFF] << 16)
        | (_REV8[(value >> 8) & 0xFF] << 8)
        | _REV8[(value >> 16) & 0xFF]
    )


def _crc_reflected(crc_init: int, pdu: bytes) -> int:
    """The bit-reversed LFSR after ``pdu``: bit i holds spec position 23 - i."""
    if not 0 <= crc_init <= 0xFFFFFF:
        raise CryptoError(f"CRCInit must fit in 24 bits, not {crc_init:#x}")
    reg = _rev24(crc_init)
    table = _CRC_TABLE
    for octet in pdu:
        reg = (reg >> 8) ^ table[(reg ^ octet) & 0xFF]
    return reg


def crc24(crc_init: int, pdu: bytes) -> int:
    """The 24-bit CRC register after ``pdu`` (Vol 6 Part B 3.1.1).

    ``crc_init`` is the CRCInit value (0x555555 on the advertising channels; from the
    CONNECT_IND for a connection) with bit 0 in LFSR position 0. ``pdu`` is header plus
    payload in air order. The result has LFSR position n in bit n, as Wireshark shows it
    in ``btle.crc``.
    """
    return _rev24(_crc_reflected(crc_init, pdu))


def crc24_bytes(crc_init: int, pdu: bytes) -> bytes:
    """The three CRC octets as transmitted after ``pdu`` (position 23 first on air)."""
    return _crc_reflected(crc_init, pdu).to_bytes(3, "little")


@functools.lru_cache(maxsize=8192)
def _check_crc(crc_init: int, pdu: bytes, crc_bytes: bytes) -> bool:
    return len(crc_bytes) == 3 and crc24_bytes(crc_init, pdu) == crc_bytes


def check_crc(crc_init: int, pdu: bytes, crc_bytes: bytes) -> bool:
    """Whether ``crc_bytes`` (3 octets in air order) is the CRC of ``pdu``.

    Memoised: advertisers repeat the same packets, and a scanner checks each copy.
    """
    return _check_crc(crc_init, bytes(pdu), bytes(crc_bytes))


# ---------------------------------------------------------------------------------------
# Whitening (Vol 6 Part B 3.2)
# ---------------------------------------------------------------------------------------

_KEYSTREAM_PERIOD_BITS = 127  # the whitening LFSR is maximal-length: 2^7 - 1
_keystreams: dict[int, bytes] = {}


def _keystream_bits(channel_index: int, nbits: int) -> list[int]:
    # Positions 0..6 of the spec's register; position 0 = 1, positions 1..6 = the
    # channel index with its most significant bit in position 1.
    pos = [1] + [(channel_index >> (5 - i)) & 1 for i in range(6)]
    bits = []
    for _ in range(nbits):
        out = pos[6]
        bits.append(out)
        pos = [out, pos[0], pos[1], pos[2], pos[3] ^ out, pos[4], pos[5]]
    return bits


def whitening_keystream(channel_index: int, length: int) -> bytes:
    """The first ``length`` octets XORed onto PDU+CRC on ``channel_index`` (0..39).

    Bit 0 of each octet is the first bit sent (the air is least significant bit first).
    """
    if not 0 <= channel_index <= 39:
        raise CryptoError(f"channel index must be 0..39, not {channel_index}")
    stream = _keystreams.get(channel_index)
    if stream is None:
        # 127 octets hold the 127-bit period exactly 8 times; any length is a repeat.
        bits = _keystream_bits(channel_index, 8 * _KEYSTREAM_PERIOD_BITS)
        stream = bytes(
            sum(bits[8 * i + j] << j for j in range(8)) for i in range(_KEYSTREAM_PERIOD_BITS)
        )
        _keystreams[channel_index] = stream
    repeats = length // len(stream) + 1
    return (stream * repeats)[:length]


def whiten(channel_index: int, data: bytes) -> bytes:
    """Whiten (or de-whiten: the operation is an involution) PDU+CRC on a channel.

    ``channel_index`` is the link-layer channel index 0..39 (Vol 6 Part B 3.2); ``data``
    is in air order and does not include the access address.
    """
    n = len(data)
    if n == 0:
        return b""
    stream = whitening_keystream(channel_index, n)
    mixed = int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")
    return mixed.to_bytes(n, "little")


# ---------------------------------------------------------------------------------------
# AES and link-layer encryption (Vol 6 Part E; Vol 3 Part H 2.2.1 for e())
# ---------------------------------------------------------------------------------------

#: Length of the Message Integrity Check appended to encrypted payloads.
MIC_LENGTH = 4
#: The packet counter is 39 bits wide (Vol 6 Part E 2.1).
MAX_PACKET_COUNTER = (1 << 39) - 1
#: Longest plaintext payload that still fits a 255-octet PDU payload with the MIC.
MAX_PLAINTEXT = 251
#: AAD mask for the first header octet: NESN, SN and MD are set to zero.
_AAD_MASK = 0xE3


def aes128(key_msb: bytes, plaintext_msb: bytes) -> bytes:
    """The security function e(key, plaintextData) (Vol 3 Part H 2.2.1, FIPS-197).

    Key, plaintext and the returned ciphertext are 16 octets, MSB-first as the
    specification prints them (convert air/HCI values with :func:`swap_octet_order`).
    """
    if len(key_msb) != 16 or len(plaintext_msb) != 16:
        raise CryptoError("e() takes a 16-octet key and a 16-octet block")
    encryptor = Cipher(algorithms.AES(bytes(key_msb)), modes.ECB()).encryptor()
    return encryptor.update(bytes(plaintext_msb)) + encryptor.finalize()


def session_key(ltk: bytes, skdm: bytes, skds: bytes) -> bytes:
    """SK = e(LTK, SKD) with SKD = SKDs || SKDm (Vol 6 Part E 1; Vol 6 Part C 1).

    All values MSB-first: ``ltk`` 16 octets, ``skdm`` and ``skds`` 8 octets each (the
    LL_ENC_REQ/LL_ENC_RSP fields carry them in air order: swap them first). Returns SK,
    16 octets MSB-first (the AES key).
    """
    if len(skdm) != 8 or len(skds) != 8:
        raise CryptoError("SKDm and SKDs are 8 octets each")
    return aes128(ltk, bytes(skds) + bytes(skdm))


class LlCipher:
    """AES-CCM state of one encrypted connection (Vol 6 Part E 2).

    ``sk`` is the session key and ``iv`` the initialisation vector ``IVs || IVm``, both
    MSB-first as the specification prints them (:meth:`from_air` takes the values in the
    order the LL_ENC_REQ/LL_ENC_RSP PDUs carry them).

    The cipher keeps one 39-bit packet counter per direction, both starting at 0 with the
    first encrypted PDU (LL_START_ENC_RSP) unless ``central_counter`` /
    ``peripheral_counter`` say otherwise. ``encrypt``/``decrypt`` without an explicit
    ``counter`` use the direction's current counter and advance it on success: call them
    that way for each *new* non-empty PDU. A retransmission (or a duplicate received
    with an old SN) passes the counter it was sent with and leaves the state alone;
    :meth:`counter` tells the caller which value a new PDU will use. Empty payloads are
    never encrypted (Vol 6 Part E 1): they pass through unchanged and advance nothing.
    """

    def __init__(
        self, sk: bytes, iv: bytes, central_counter: int = 0, peripheral_counter: int = 0
    ) -> None:
        if len(sk) != 16:
            raise CryptoError("the session key is 16 octets")
        if len(iv) != 8:
            raise CryptoError("the IV is 8 octets")
        for value in (central_counter, peripheral_counter):
            if not 0 <= value <= MAX_PACKET_COUNTER:
                raise CryptoError(f"packet counter out of range: {value}")
        self._ccm = AESCCM(bytes(sk), tag_length=MIC_LENGTH)
        self._iv_air = swap_octet_order(iv)
        self._counters = {True: central_counter, False: peripheral_counter}

    @classmethod
    def from_air(
        cls, ltk_lso: bytes, skdm_air: bytes, ivm_air: bytes, skds_air: bytes, ivs_air: bytes
    ) -> LlCipher:
        """Build the cipher from values in air/HCI order.

        ``ltk_lso`` as in HCI_LE_Enable_Encryption / HCI_LE_Long_Term_Key_Request_Reply,
        ``skdm_air``/``ivm_air`` as in LL_ENC_REQ, ``skds_air``/``ivs_air`` as in
        LL_ENC_RSP.
        """
        if len(ivm_air) != 4 or len(ivs_air) != 4:
            raise CryptoError("IVm and IVs are 4 octets each")
        sk = session_key(
            swap_octet_order(ltk_lso), swap_octet_order(skdm_air), swap_octet_order(skds_air)
        )
        return cls(sk, swap_octet_order(bytes(ivm_air) + bytes(ivs_air)))

    def counter(self, direction_is_central: bool) -> int:
        """The packet counter the next new PDU of that direction will use (2^39 once
        every value has been used: a new PDU then raises :class:`CryptoError`)."""
        return self._counters[direction_is_central]

    def nonce(self, counter: int, direction_is_central: bool) -> bytes:
        """The 13-octet CCM nonce in air order (Vol 6 Part E 2.1)."""
        if not 0 <= counter <= MAX_PACKET_COUNTER:
            raise CryptoError(f"packet counter out of range: {counter}")
        value = counter | (int(direction_is_central) << 39)
        return value.to_bytes(5, "little") + self._iv_air

    def _take_counter(self, direction_is_central: bool, counter: int | None) -> int:
        if counter is not None:
            return counter
        value = self._counters[direction_is_central]
        if value > MAX_PACKET_COUNTER:
            raise CryptoError("packet counter exhausted; the link must be re-keyed")
        return value

    def _advance(self, direction_is_central: bool, used: int, explicit: bool) -> None:
        if not explicit:
            self._counters[direction_is_central] = used + 1

    def encrypt(
        self,
        header_octet0: int,
        payload: bytes,
        direction_is_central: bool,
        counter: int | None = None,
    ) -> bytes:
        """Encrypt a data channel PDU payload; returns ciphertext followed by the MIC.

        ``header_octet0`` is the first header octet (LLID, NESN, SN, MD, CP...): its
        bits 0, 1, 5, 6, 7 are authenticated. The caller adds 4 to the header's Length.
        """
        if not payload:
            return b""
        if len(payload) > MAX_PLAINTEXT:
            raise CryptoError(f"plaintext longer than {MAX_PLAINTEXT} octets")
        used = self._take_counter(direction_is_central, counter)
        nonce = self.nonce(used, direction_is_central)
        out = self._ccm.encrypt(nonce, bytes(payload), bytes([header_octet0 & _AAD_MASK]))
        self._advance(direction_is_central, used, counter is not None)
        return out

    def decrypt(
        self,
        header_octet0: int,
        payload_and_mic: bytes,
        direction_is_central: bool,
        counter: int | None = None,
    ) -> bytes:
        """Check the MIC and decrypt; raises :class:`MicFailure` if it does not match.

        ``direction_is_central`` is the direction the PDU was *sent* in. On failure the
        counter is not advanced.
        """
        if not payload_and_mic:
            return b""
        if len(payload_and_mic) <= MIC_LENGTH:
            raise MicFailure("encrypted payload too short to hold data and a MIC")
        used = self._take_counter(direction_is_central, counter)
        nonce = self.nonce(used, direction_is_central)
        try:
            out = self._ccm.decrypt(
                nonce, bytes(payload_and_mic), bytes([header_octet0 & _AAD_MASK])
            )
        except InvalidTag:
            raise MicFailure(f"MIC check failed (packet counter {used})") from None
        self._advance(direction_is_central, used, counter is not None)
        return out

    def encrypt_pdu(
        self, pdu: bytes, direction_is_central: bool, counter: int | None = None
    ) -> bytes:
        """Encrypt a whole data channel PDU (2-octet header + payload, air order).

        Returns the PDU as sent: same first header octet, Length + 4, ciphertext, MIC.
        A CTEInfo octet (CP = 1) stays in the clear after the Length (Vol 6 Part B 2.4).
        An empty PDU is returned unchanged.
        """
        header, payload = _split_data_pdu(pdu)
        if not payload:
            return bytes(pdu)
        body = self.encrypt(header[0], payload, direction_is_central, counter)
        return bytes([header[0], len(body)]) + header[2:] + body

    def decrypt_pdu(
        self, pdu: bytes, direction_is_central: bool, counter: int | None = None
    ) -> bytes:
        """Inverse of :meth:`encrypt_pdu`: header with Length - 4, plaintext payload."""
        header, body = _split_data_pdu(pdu)
        if not body:
            return bytes(pdu)
        payload = self.decrypt(header[0], body, direction_is_central, counter)
        return bytes([header[0], len(payload)]) + header[2:] + payload


_CP_BIT = 0x20  # header octet 0: a CTEInfo octet follows the Length (Vol 6 Part B 2.4)


def _split_data_pdu(pdu: bytes) -> tuple[bytes, bytes]:
    """Split a data channel PDU into its header (2 or 3 octets) and payload."""
    header_len = 3 if len(pdu) >= 1 and pdu[0] & _CP_BIT else 2
    if len(pdu) < header_len:
        raise CryptoError(f"a data channel PDU with this header has {header_len} header octets")
    if pdu[1] != len(pdu) - header_len:
        raise CryptoError(f"header Length {pdu[1]} but {len(pdu) - header_len} payload octets")
    return bytes(pdu[:header_len]), bytes(pdu[header_len:])
