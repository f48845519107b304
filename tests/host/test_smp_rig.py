"""Two SmpSessions back to back in memory with a hand-cranked clock (STYLE 8).

:class:`SmpRig` wires a central and a peripheral session: every PDU one sends is queued
for the other, the central's ``start_encryption`` is served like a controller would
(the peripheral's ``on_ltk_request`` must give the same key, then both get an
Encryption Change), and simulated users answer passkey requests (typing what the peer
displays, or a preset passkey) and numeric comparisons. Everything is recorded in
:attr:`SmpRig.log` as ``(t, side, event, detail)`` tuples.

The module also tests the rig itself (so pytest collects it harmlessly).
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from host.bonds import BondStore
from host.smp import SmpSession
from host.smp_pdu import AuthReq, KeypressNotificationType, SmpCode, SmpPdu, decode_smp
from host.smp_sc import ScKeyPair
from host.smp_types import PairingAttemptGuard, PairingResult, SmpConfig, SmpDelegate
from linklayer.address import Address

CENTRAL_ADDRESS = Address.parse("C0:00:00:00:00:01", random=True)  # random static
PERIPHERAL_ADDRESS = Address.parse("00:1B:DC:00:00:02")  # public
STEP_NS = 7_500_000  # one PDU per connection event of 7.5 ms
PIN_OR_KEY_MISSING = 0x06


@dataclasses.dataclass
class User:
    """What a simulated user does: type ``passkey`` (None: what the peer shows),
    add ``passkey_offset`` (a typo), cancel, answer comparisons with ``accept``."""

    passkey: int | None = None
    passkey_offset: int = 0
    cancel: bool = False
    accept: bool = True
    respond: bool = True  # False: never answers (timeout tests)


class Side(SmpDelegate):
    """A recording delegate."""

    def __init__(self, rig: SmpRig, name: str) -> None:
        self.rig = rig
        self.name = name
        self.displayed: int | None = None
        self.compared: int | None = None
        self.results: list[PairingResult] = []
        self.keypresses: list[KeypressNotificationType] = []
        self.encryptions: list[tuple[bytes, int, int, int]] = []
        self.passkey_asked = False

    def _log(self, event: str, detail: Any = None) -> None:
        self.rig.log.append((self.rig.now, self.name, event, detail))

    def start_encryption(self, handle: int, ltk: bytes, ediv: int, rand: int, key_size: int) -> None:
        self.encryptions.append((ltk, ediv, rand, key_size))
        self.rig.pending_encryption = (ltk, ediv, rand, key_size)
        self._log("start_encryption", (ediv, rand, key_size))

    def on_pairing_complete(self, handle: int, result: PairingResult) -> None:
        self.results.append(result)
        self._log("complete", result.success if result.success else result.reason)

    def on_passkey_display(self, handle: int, passkey: int) -> None:
        self.displayed = passkey
        self._log("display", passkey)

    def on_passkey_request(self, handle: int) -> None:
        self.passkey_asked = True
        self._log("passkey_request")

    def on_numeric_comparison(self, handle: int, value: int) -> None:
        self.compared = value
        self._log("compare", value)

    def on_keypress(self, handle: int, notification: KeypressNotificationType) -> None:
        self.keypresses.append(notification)
        self._log("keypress", notification)

    def on_security_request(self, handle: int, auth_req: AuthReq) -> None:
        self._log("security_request", int(auth_req))


class SmpRig:
    """A central and a peripheral SmpSession connected back to back."""

    def __init__(
        self,
        central: SmpConfig | None = None,
        peripheral: SmpConfig | None = None,
        *,
        seed: int = 1,
        central_bonds: BondStore | None = None,
        peripheral_bonds: BondStore | None = None,
        central_guard: PairingAttemptGuard | None = None,
        peripheral_guard: PairingAttemptGuard | None = None,
        central_keys: ScKeyPair | None = None,
        peripheral_keys: ScKeyPair | None = None,
        central_address: Address = CENTRAL_ADDRESS,
        peripheral_address: Address = PERIPHERAL_ADDRESS,
        user_first: bool = False,
    ) -> None:
        self.now = 0
        self.log: list[tuple[int, str, str, Any]] = []
        self.wire: list[tuple[str, bytes]] = []
        self.queue: list[tuple[str, bytes]] = []
        self.pending_encryption: tuple[bytes, int, int, int] | None = None
        self.user_first = user_first
        self.users = {"central": User(), "peripheral": User()}
        self.link_up = True
        self.encrypted_with: bytes | None = None
        rng_c = random.Random(f"{seed}-central")
        rng_p = random.Random(f"{seed}-peripheral")
        self.central_side = Side(self, "central")
        self.peripheral_side = Side(self, "peripheral")
        self.central_bonds = central_bonds
        self.peripheral_bonds = peripheral_bonds
        self.central = SmpSession(
            0x40, "central", lambda pdu: self._sent("central", pdu), central or SmpConfig(), rng_c,
            local_address=central_address, peer_address=peripheral_address,
            delegate=self.central_side, bonds=central_bonds, guard=central_guard,
            key_pair=central_keys,
        )
        self.peripheral = SmpSession(
            0x41, "peripheral", lambda pdu: self._sent("peripheral", pdu), peripheral or SmpConfig(),
            rng_p, local_address=peripheral_address, peer_address=central_address,
            delegate=self.peripheral_side, bonds=peripheral_bonds, guard=peripheral_guard,
            key_pair=peripheral_keys,
        )

    # -- plumbing -----------------------------------------------------------------------

    def _sent(self, side: str, pdu: bytes) -> None:
        self.wire.append((side, pdu))
        self.queue.append((side, pdu))

    def session(self, side: str) -> SmpSession:
        return self.central if side == "central" else self.peripheral

    def delegate(self, side: str) -> Side:
        return self.central_side if side == "central" else self.peripheral_side

    def codes(self, side: str | None = None) -> list[int]:
        """The SMP codes on the wire (from ``side`` only, if given)."""
        return [pdu[0] for s, pdu in self.wire if side is None or s == side]

    def pdus(self, side: str, code: int) -> list[SmpPdu]:
        return [decode_smp(pdu) for s, pdu in self.wire if s == side and pdu[0] == code]

    def failures(self) -> list[tuple[str, int]]:
        return [(s, pdu[1]) for s, pdu in self.wire if pdu[0] == SmpCode.PAIRING_FAILED]

    def _deliver_one(self) -> tuple[str, ...] | None:
        if not self.queue:
            return None
        side, pdu = self.queue.pop(0)
        self.now += STEP_NS
        other = "peripheral" if side == "central" else "central"
        self.session(other).receive(pdu, self.now)
        return ("deliver", other, str(pdu[0]))

    def _user_step(self) -> tuple[str, ...] | None:
        for side in ("central", "peripheral"):
            session = self.session(side)
            user = self.users[side]
            if not user.respond:
                continue
            if session.waiting_for_passkey:
                if user.cancel:
                    session.passkey_reply(None, self.now)
                    return ("user", side)
                passkey = user.passkey
                if passkey is None:
                    passkey = self.delegate("peripheral" if side == "central" else "central").displayed
                if passkey is None:
                    continue  # the peer has not displayed it yet
                session.passkey_reply((passkey + user.passkey_offset) % 1_000_000, self.now)
                return ("user", side)
            if session.waiting_for_confirmation:
                session.numeric_comparison_reply(user.accept, self.now)
                return ("user", side)
        return None

    def _encryption_step(self) -> tuple[str, ...] | None:
        if self.pending_encryption is None:
            return None
        ltk, ediv, rand, _ = self.pending_encryption
        self.pending_encryption = None
        self.now += STEP_NS
        answer = self.peripheral.on_ltk_request(ediv, rand, self.now)
        self.now += STEP_NS
        if answer is not None and answer == ltk:
            self.encrypted_with = ltk
            self.peripheral.on_encryption_change(0, True, self.now)
            self.central.on_encryption_change(0, True, self.now)
        else:
            self.central.on_encryption_change(PIN_OR_KEY_MISSING, False, self.now)
        return ("encrypt",)

    def step(self) -> tuple[str, ...] | None:
        """One thing happens: a user answers (first, with ``user_first``), a PDU is
        delivered, the link is encrypted, or a user answers. ``None``: quiet."""
        if self.user_first:
            done = self._user_step()
            if done is not None:
                return done
        return self._deliver_one() or self._encryption_step() or self._user_step()

    def run(self, limit: int = 10_000) -> SmpRig:
        """Deliver PDUs, serve encryption and let the users answer until quiet."""
        for _ in range(limit):
            if self.step() is None:
                return self
        raise AssertionError("the rig did not settle")

    def advance(self, delta_ns: int) -> None:
        """Move the clock and fire the sessions' timers that are due."""
        self.now += delta_ns
        for session in (self.central, self.peripheral):
            deadline = session.get_timer()
            if deadline is not None and deadline <= self.now:
                session.handle_timer(self.now)

    def pair(self) -> SmpRig:
        self.central.pair(self.now)
        return self.run()

    # -- conclusions --------------------------------------------------------------------

    def result(self, side: str) -> PairingResult:
        results = self.delegate(side).results
        assert len(results) == 1, f"{side}: {results}"
        return results[0]


# ---------------------------------------------------------------------------------------
# The rig's own tests
# ---------------------------------------------------------------------------------------


def test_rig_just_works_completes_on_both_sides() -> None:
    rig = SmpRig().pair()
    assert rig.result("central").success and rig.result("peripheral").success
    assert rig.encrypted_with is not None
    assert rig.central.get_timer() is None and rig.peripheral.get_timer() is None


def test_rig_is_deterministic() -> None:
    a = SmpRig(seed=5).pair()
    b = SmpRig(seed=5).pair()
    c = SmpRig(seed=6).pair()
    assert a.wire == b.wire and a.log == b.log
    assert a.wire != c.wire
