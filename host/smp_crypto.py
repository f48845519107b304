"""The Security Manager's cryptographic toolbox (Vol 3 Part H 2.2) and P-256 ECDH.

Theory of operation
-------------------
Pairing computes every confirm value, key and check value with a handful of functions
built on AES-128: the security function ``e`` (2.2.1), the LE legacy functions ``c1``
and ``s1`` (2.2.3, 2.2.4), the resolvable-address hash ``ah`` (2.2.2), and, for LE
Secure Connections, AES-CMAC (RFC 4493) and the functions built on it: ``f4``, ``f5``,
``f6``, ``g2``, ``h6``, ``h7`` (2.2.5 - 2.2.10). LE Secure Connections also agrees a
DHKey over P-256 (2.3.5.6): :func:`generate_keypair` draws the private scalar from the
injected random stream (so a seeded run pairs identically every time) and
:func:`dh_key` refuses a peer key that is not on the curve (the invalid-curve attack).
AES, AES-CMAC and P-256 come from the ``cryptography`` package.

Byte order: **every value in and out of this module is MSB-first**, the order in which
the specification prints values and the order AES consumes them (Appendix D sample data
can be pasted in as is). SMP PDUs and HCI carry these values least significant octet
first; the SMP layer converts them at its edge with the project's single order helper
(the octets reversed; ``linklayer.crypto.swap_octet_order`` on the controller side).
Nothing in this module reverses octets.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from phy.types import Rng

__all__ = [
    "DEBUG_PRIVATE_KEY",
    "DEBUG_PUBLIC_KEY",
    "InvalidPublicKey",
    "SmpCryptoError",
    "aes_cmac",
    "ah",
    "c1",
    "dh_key",
    "e",
    "f4",
    "f5",
    "f6",
    "g2",
    "generate_keypair",
    "h6",
    "h7",
    "link_key_to_ltk",
    "ltk_to_link_key",
    "public_key",
    "s1",
    "validate_public_key",
]


class SmpCryptoError(ValueError):
    """An input of the wrong size or range was passed to a toolbox function."""


class InvalidPublicKey(SmpCryptoError):
    """A peer's P-256 public key is not a point on the curve (Vol 3 Part H 2.3.5.6.1):
    pairing fails with DHKey Check Failed / the key is rejected."""


def _need(name: str, value: bytes, size: int) -> bytes:
    if len(value) != size:
        raise SmpCryptoError(f"{name} must be {size} octets, not {len(value)}")
    return bytes(value)


# ---------------------------------------------------------------------------------------
# AES and AES-CMAC
# ---------------------------------------------------------------------------------------


def e(key: bytes, plaintext: bytes) -> bytes:
    """Security function e (Vol 3 Part H 2.2.1): AES-128 of one block.

    ``key``, ``plaintext`` and the result: 16 octets each, MSB-first.
    """
    _need("key", key, 16)
    _need("plaintextData", plaintext, 16)
    encryptor = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()
    return encryptor.update(bytes(plaintext)) + encryptor.finalize()


def aes_cmac(key: bytes, message: bytes) -> bytes:
    """AES-CMAC_key(message) (RFC 4493; Vol 3 Part H 2.2.5). MSB-first in and out;
    ``key`` 16 octets, ``message`` any length, 16-octet result."""
    mac = cmac.CMAC(algorithms.AES(_need("key", key, 16)))
    mac.update(bytes(message))
    return mac.finalize()


# ---------------------------------------------------------------------------------------
# LE legacy pairing (2.2.2 - 2.2.4)
# ---------------------------------------------------------------------------------------


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def ah(irk: bytes, prand: bytes) -> bytes:
    """Random address hash ah(k, r) = e(k, r') mod 2^24, r' = 104 zero bits || r
    (Vol 3 Part H 2.2.2).

    ``irk`` 16 octets, ``prand`` 3 octets, result 3 octets, all MSB-first: the resolvable
    private address as printed is ``prand || hash``.
    """
    _need("prand", prand, 3)
    return e(irk, bytes(13) + bytes(prand))[-3:]


def c1(
    k: bytes,
    r: bytes,
    preq: bytes,
    pres: bytes,
    iat: int,
    rat: int,
    ia: bytes,
    ra: bytes,
) -> bytes:
    """Confirm value generation c1 for LE legacy pairing (Vol 3 Part H 2.2.3).

    c1 = e(k, e(k, r XOR p1) XOR p2), p1 = pres || preq || rat' || iat',
    p2 = 32 zero bits || ia || ra. ``k`` (TK) and ``r`` 16 octets; ``preq``/``pres``
    the 7-octet Pairing Request/Response PDUs (code included) MSB-first, i.e. their air
    bytes reversed; ``iat``/``rat`` the address types (0 public, 1 random); ``ia``/``ra``
    6-octet addresses MSB-first (as printed). Returns 16 octets MSB-first.
    """
    _need("r", r, 16)
    _need("preq", preq, 7)
    _need("pres", pres, 7)
    _need("ia", ia, 6)
    _need("ra", ra, 6)
    if iat not in (0, 1) or rat not in (0, 1):
        raise SmpCryptoError("address types are 0 (public) or 1 (random)")
    p1 = bytes(pres) + bytes(preq) + bytes([rat, iat])
    p2 = bytes(4) + bytes(ia) + bytes(ra)
    return e(k, _xor(e(k, _xor(r, p1)), p2))


def s1(k: bytes, r1: bytes, r2: bytes) -> bytes:
    """Key generation s1 for LE legacy pairing (Vol 3 Part H 2.2.4): the STK.

    s1 = e(k, r'), r' = least significant 64 bits of r1 || those of r2. All 16 octets,
    MSB-first (so the least significant 64 bits are the last 8 octets).
    """
    _need("r1", r1, 16)
    _need("r2", r2, 16)
    return e(k, bytes(r1[8:]) + bytes(r2[8:]))


# ---------------------------------------------------------------------------------------
# LE Secure Connections (2.2.6 - 2.2.10)
# ---------------------------------------------------------------------------------------

_F5_SALT = bytes.fromhex("6c888391aaf5a53860370bdb5a6083be")
_F5_KEY_ID = b"btle"  # 0x62746c65
_F5_LENGTH = (256).to_bytes(2, "big")


def f4(u: bytes, v: bytes, x: bytes, z: bytes) -> bytes:
    """Confirm value generation f4 (Vol 3 Part H 2.2.6): AES-CMAC_X(U || V || Z).

    ``u``/``v`` 32-octet public key X coordinates, ``x`` the 16-octet nonce (the key),
    ``z`` one octet (0 for Just Works/Numeric Comparison, 0x80|bit for Passkey). MSB-first.
    """
    _need("U", u, 32)
    _need("V", v, 32)
    _need("Z", z, 1)
    return aes_cmac(x, bytes(u) + bytes(v) + bytes(z))


def f5(w: bytes, n1: bytes, n2: bytes, a1: bytes, a2: bytes) -> tuple[bytes, bytes]:
    """Key generation f5 (Vol 3 Part H 2.2.7): returns ``(MacKey, LTK)``.

    T = AES-CMAC_SALT(W); MacKey / LTK = AES-CMAC_T(Counter (0 / 1) || keyID 'btle' ||
    N1 || N2 || A1 || A2 || Length 256). ``w`` the 32-octet DHKey, ``n1``/``n2``
    16-octet nonces, ``a1``/``a2`` 7 octets: address type (0 public, 1 random) followed
    by the 6-octet address as printed. All MSB-first; both results 16 octets.
    """
    _need("W", w, 32)
    _need("N1", n1, 16)
    _need("N2", n2, 16)
    _need("A1", a1, 7)
    _need("A2", a2, 7)
    t = aes_cmac(_F5_SALT, w)
    tail = _F5_KEY_ID + bytes(n1) + bytes(n2) + bytes(a1) + bytes(a2) + _F5_LENGTH
    return aes_cmac(t, b"\x00" + tail), aes_cmac(t, b"\x01" + tail)


def f6(
    w: bytes, n1: bytes, n2: bytes, r: bytes, io_cap: bytes, a1: bytes, a2: bytes
) -> bytes:
    """Check value generation f6 (Vol 3 Part H 2.2.8): AES-CMAC_W(N1||N2||R||IOcap||A1||A2).

    ``w`` the 16-octet MacKey; ``n1``, ``n2``, ``r`` 16 octets; ``io_cap`` 3 octets
    AuthReq || OOB data flag || IO capability; ``a1``/``a2`` 7 octets as in :func:`f5`.
    MSB-first; 16-octet result (the DHKey check value).
    """
    _need("N1", n1, 16)
    _need("N2", n2, 16)
    _need("R", r, 16)
    _need("IOcap", io_cap, 3)
    _need("A1", a1, 7)
    _need("A2", a2, 7)
    message = bytes(n1) + bytes(n2) + bytes(r) + bytes(io_cap) + bytes(a1) + bytes(a2)
    return aes_cmac(w, message)


def g2(u: bytes, v: bytes, x: bytes, y: bytes) -> int:
    """Numeric comparison value g2 (Vol 3 Part H 2.2.9): AES-CMAC_X(U||V||Y) mod 2^32.

    ``u``/``v`` 32 octets, ``x``/``y`` 16 octets, MSB-first. Returns the 32-bit integer;
    the six digits shown to the user are ``g2(...) % 1_000_000``.
    """
    _need("U", u, 32)
    _need("V", v, 32)
    _need("Y", y, 16)
    return int.from_bytes(aes_cmac(x, bytes(u) + bytes(v) + bytes(y))[-4:], "big")


def h6(w: bytes, key_id: bytes) -> bytes:
    """Link key conversion h6 (Vol 3 Part H 2.2.10): AES-CMAC_W(keyID).

    ``w`` 16 octets, ``key_id`` 4 octets (ASCII such as b'lebr' is already MSB-first).
    """
    return aes_cmac(w, _need("keyID", key_id, 4))


def h7(salt: bytes, w: bytes) -> bytes:
    """Link key conversion h7 (Vol 3 Part H 2.2.11): AES-CMAC_SALT(W); 16 octets each."""
    return aes_cmac(salt, _need("W", w, 16))


def _salt(key_id: bytes) -> bytes:
    return bytes(12) + key_id


def ltk_to_link_key(ltk: bytes, ct2: bool) -> bytes:
    """BR/EDR link key from an LE LTK (Vol 3 Part H 2.4.2.4, cross-transport key
    derivation): ILK = h7(SALT 'tmp1', LTK) if ct2 else h6(LTK, 'tmp1'); LinkKey =
    h6(ILK, 'lebr'). 16 octets in and out, MSB-first."""
    ilk = h7(_salt(b"tmp1"), ltk) if ct2 else h6(ltk, b"tmp1")
    return h6(ilk, b"lebr")


def link_key_to_ltk(link_key: bytes, ct2: bool) -> bytes:
    """LE LTK from a BR/EDR link key (Vol 3 Part H 2.4.2.5): ILTK = h7(SALT 'tmp2',
    LinkKey) if ct2 else h6(LinkKey, 'tmp2'); LTK = h6(ILTK, 'brle'). MSB-first."""
    iltk = h7(_salt(b"tmp2"), link_key) if ct2 else h6(link_key, b"tmp2")
    return h6(iltk, b"brle")


# ---------------------------------------------------------------------------------------
# P-256 (FIPS 186; Vol 3 Part H 2.3.5.6)
# ---------------------------------------------------------------------------------------

_CURVE = ec.SECP256R1()
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

#: The LE Secure Connections debug private key (Vol 3 Part H 2.3.5.6.1).
DEBUG_PRIVATE_KEY = 0x3F49F6D4A3C55F3874C9B3E3D2103F504AFF607BEB40B7995899B8A6CD3C1ABD
#: The matching debug public key ``(X, Y)``, 32 octets each, MSB-first.
DEBUG_PUBLIC_KEY: tuple[bytes, bytes] = (
    bytes.fromhex("20b003d2f297be2c5e2c83a7e9f9a5b9eff49111acf4fddbcc0301480e359de6"),
    bytes.fromhex("dc809c49652aeb6d63329abf5a52155c766345c28fed3024741c8ed01589d28b"),
)


def _private_key(private: int) -> ec.EllipticCurvePrivateKey:
    if not 1 <= private < _N:
        raise SmpCryptoError("a P-256 private key is an integer in [1, n-1]")
    return ec.derive_private_key(private, _CURVE)


def public_key(private: int) -> tuple[bytes, bytes]:
    """The public key ``(X, Y)`` of a private scalar, 32 octets each, MSB-first."""
    numbers = _private_key(private).public_key().public_numbers()
    return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")


def generate_keypair(rng: Rng) -> tuple[int, bytes, bytes]:
    """A fresh P-256 key pair drawn from ``rng`` (deterministic for a seeded stream).

    Returns ``(private, X, Y)``: the private scalar as an integer in [1, n-1], and the
    public key coordinates, 32 octets each, MSB-first (SMP Pairing Public Key carries
    them LSO-first).
    """
    private = rng.getrandbits(256) % (_N - 1) + 1
    x, y = public_key(private)
    return private, x, y


def validate_public_key(x: bytes, y: bytes) -> ec.EllipticCurvePublicKey:
    """The peer's key as an object, or :class:`InvalidPublicKey` if ``(X, Y)`` (32
    octets each, MSB-first) is not a point of P-256."""
    if len(x) != 32 or len(y) != 32:
        raise InvalidPublicKey("P-256 coordinates are 32 octets each")
    xi = int.from_bytes(x, "big")
    yi = int.from_bytes(y, "big")
    # Checked here explicitly (coordinates in the field, y^2 = x^3 - 3x + b) so that the
    # refusal does not depend on what the backend checks; the backend checks again.
    if xi >= _P or yi >= _P or (yi * yi - (xi * xi * xi - 3 * xi + _B)) % _P != 0:
        raise InvalidPublicKey("public key is not a point on P-256")
    try:
        return ec.EllipticCurvePublicNumbers(xi, yi, _CURVE).public_key()
    except ValueError as exc:
        raise InvalidPublicKey(f"public key rejected: {exc}") from None


def dh_key(private: int, peer_x: bytes, peer_y: bytes) -> bytes:
    """DHKey = X coordinate of private · peer public key (Vol 3 Part H 2.3.5.6.1).

    ``peer_x``/``peer_y`` 32 octets MSB-first; returns the 32-octet DHKey MSB-first (the
    ``W`` of :func:`f5`). Raises :class:`InvalidPublicKey` if the peer's key is not on
    the curve.
    """
    peer = validate_public_key(peer_x, peer_y)
    return _private_key(private).exchange(ec.ECDH(), peer)
