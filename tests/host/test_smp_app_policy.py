"""Two application policies of the Security Manager (Vol 3 Part H 2.3.5.1, 2.3.5.3):

* ``SmpConfig.enforce_mitm``: with False, MITM is only asked for in AuthReq and a pairing
  that can only be Just Works goes on, unauthenticated (NimBLE's ``sm_mitm``);
* ``SmpConfig.application_passkey``: the display side of Passkey Entry asks the
  application for the passkey and waits for it (NimBLE's ``BLE_SM_IOACT_DISP`` answered
  with ``ble_sm_inject_io``), in LE legacy and LE Secure Connections pairing.
"""

from __future__ import annotations

import random

import pytest

from host.smp_pdu import IoCapability, PairingFailedReason, SmpCode
from host.smp_sc import ScKeyPair
from host.smp_types import AssociationModel, SmpConfig
from tests.host.test_smp_rig import Side, SmpRig

IO = IoCapability
KEYS_C = ScKeyPair.generate(random.Random("policy central"))
KEYS_P = ScKeyPair.generate(random.Random("policy peripheral"))


class AppSide(Side):
    """A recording delegate that also records the application being asked for a passkey."""

    def __init__(self, rig: SmpRig, name: str) -> None:
        super().__init__(rig, name)
        self.choice_asked = 0

    def on_display_passkey_request(self, handle: int) -> None:
        self.choice_asked += 1
        self._log("choose_passkey")


def _rig(central: SmpConfig, peripheral: SmpConfig) -> tuple[SmpRig, AppSide, AppSide]:
    rig = SmpRig(central, peripheral, central_keys=KEYS_C, peripheral_keys=KEYS_P)
    c, p = AppSide(rig, "central"), AppSide(rig, "peripheral")
    rig.central_side, rig.peripheral_side = c, p
    rig.central.delegate, rig.peripheral.delegate = c, p
    return rig, c, p


# -- enforce_mitm ---------------------------------------------------------------------------


@pytest.mark.parametrize("sc", [False, True])
def test_mitm_asked_but_not_enforced_pairs_just_works_unauthenticated(sc: bool) -> None:
    lenient = SmpConfig(mitm=True, enforce_mitm=False, secure_connections=sc)
    rig, _, _ = _rig(lenient, lenient)
    rig.pair()
    assert rig.failures() == []
    for side in ("central", "peripheral"):
        result = rig.result(side)
        assert result.success and result.model is AssociationModel.JUST_WORKS
        assert not result.authenticated and result.secure_connections == sc
    # The Pairing Request and Response still carry MITM (AuthReq bit 2).
    assert rig.pdus("central", SmpCode.PAIRING_REQUEST)[0].to_bytes()[3] & 0x04
    assert rig.pdus("peripheral", SmpCode.PAIRING_RESPONSE)[0].to_bytes()[3] & 0x04


@pytest.mark.parametrize("side", ["central", "peripheral"])
def test_mitm_enforced_by_default_refuses_just_works(side: str) -> None:
    strict, lenient = SmpConfig(mitm=True), SmpConfig(mitm=True, enforce_mitm=False)
    rig, _, _ = _rig(strict, lenient) if side == "central" else _rig(lenient, strict)
    rig.pair()
    assert rig.failures() == [(side, PairingFailedReason.AUTHENTICATION_REQUIREMENTS)]


def test_mitm_not_enforced_still_uses_an_authenticated_model_when_possible() -> None:
    rig, _, _ = _rig(
        SmpConfig(io_capability=IO.DISPLAY_YES_NO, mitm=True, enforce_mitm=False),
        SmpConfig(io_capability=IO.DISPLAY_YES_NO, mitm=True, enforce_mitm=False),
    )
    rig.pair()
    result = rig.result("central")
    assert result.model is AssociationModel.NUMERIC_COMPARISON and result.authenticated


# -- application_passkey --------------------------------------------------------------------


def _passkey_rig(sc: bool, display: str, app: bool = True, fixed: int | None = None) -> tuple[SmpRig, AppSide, AppSide]:
    """Passkey Entry where ``display`` shows and the other side types."""
    shows = SmpConfig(io_capability=IO.DISPLAY_ONLY, mitm=True, secure_connections=sc,
                      application_passkey=app, passkey=fixed)
    types = SmpConfig(io_capability=IO.KEYBOARD_ONLY, mitm=True, secure_connections=sc)
    return _rig(shows, types) if display == "central" else _rig(types, shows)


@pytest.mark.parametrize("sc", [False, True])
@pytest.mark.parametrize("display", ["central", "peripheral"])
def test_the_display_side_waits_for_the_applications_passkey(sc: bool, display: str) -> None:
    typer = "peripheral" if display == "central" else "central"
    rig, central, peripheral = _passkey_rig(sc, display)
    shower = central if display == "central" else peripheral
    rig.users[display].respond = False  # the application has not chosen yet
    rig.users[typer].passkey = 123456
    rig.pair()
    # Asked once, nothing drawn or displayed by the stack, and stuck before any commitment
    # of the display side.
    assert shower.choice_asked == 1 and shower.displayed is None
    assert rig.session(display).waiting_for_passkey
    assert SmpCode.PAIRING_CONFIRM not in rig.codes(display)
    assert rig.delegate(display).results == [] and rig.delegate(typer).results == []
    # The application gives the passkey it shows: the pairing goes on and authenticates.
    rig.users[display].respond = True
    rig.users[display].passkey = 123456
    rig.run()
    for side in ("central", "peripheral"):
        result = rig.result(side)
        assert result.success and result.authenticated and result.model is AssociationModel.PASSKEY_ENTRY
        assert result.secure_connections == sc


@pytest.mark.parametrize("sc", [False, True])
def test_a_passkey_typed_differently_from_the_one_chosen_fails(sc: bool) -> None:
    rig, _, _ = _passkey_rig(sc, "peripheral")
    rig.users["peripheral"].passkey = 123456
    rig.users["central"].passkey = 123457
    rig.pair()
    assert (rig.failures()[0][1]) == PairingFailedReason.CONFIRM_VALUE_FAILED
    assert not rig.result("central").success and not rig.result("peripheral").success


def test_without_application_passkey_the_stack_draws_and_displays() -> None:
    rig, _, peripheral = _passkey_rig(True, "peripheral", app=False)
    rig.pair()
    assert peripheral.choice_asked == 0 and peripheral.displayed is not None
    assert rig.result("central").success


def test_a_fixed_passkey_takes_precedence_over_the_application() -> None:
    rig, _, peripheral = _passkey_rig(True, "peripheral", fixed=654321)
    rig.pair()
    assert peripheral.choice_asked == 0 and peripheral.displayed == 654321
    assert rig.result("central").success and rig.result("peripheral").authenticated


def test_application_passkey_out_of_range_is_refused_and_the_pairing_waits() -> None:
    from host.smp_types import SmpLocalError

    rig, _, _ = _passkey_rig(True, "peripheral")
    rig.users["peripheral"].respond = False
    rig.users["central"].passkey = 5
    rig.pair()
    with pytest.raises(SmpLocalError):
        rig.peripheral.passkey_reply(1_000_000, rig.now)
    assert rig.peripheral.waiting_for_passkey
    rig.peripheral.passkey_reply(5, rig.now)
    rig.run()
    assert rig.result("peripheral").success
