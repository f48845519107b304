"""LL encryption procedures: start, pause and restart (Vol 6 Part B 5.1.3; Vol 6 Part E).

Theory of operation
-------------------
A mixin of :class:`linklayer.control.ControlProcedures` holding the encryption state of
one connection. Encryption is switched per direction at the PDUs the specification
names, by telling the link to encrypt what it sends (``set_tx_encrypt``) and to decrypt
what it receives (``set_rx_decrypt``):

======================  ===========================================  ====================
Central                 PDU                                          Peripheral
======================  ===========================================  ====================
LE_Enable_Encryption    LL_ENC_REQ (Rand, EDIV, SKDm, IVm) ->        LTK request to host
                        <- LL_ENC_RSP (SKDs, IVs)
                        <- LL_START_ENC_REQ (clear)                  rx on
rx on, tx on            LL_START_ENC_RSP (encrypted) ->              tx on, Encryption_Change
Encryption_Change       <- LL_START_ENC_RSP (encrypted)
======================  ===========================================  ====================

A key refresh first pauses: LL_PAUSE_ENC_REQ (encrypted) ->, <- LL_PAUSE_ENC_RSP
(encrypted, the Peripheral stops decrypting), LL_PAUSE_ENC_RSP (clear) -> (the
Peripheral stops encrypting), then the start procedure above; it ends with
Encryption_Key_Refresh_Complete instead of Encryption_Change. Data PDUs are held back
(``set_data_paused``) from LL_ENC_REQ / LL_PAUSE_ENC_REQ until the procedure ends; so are
the control PDUs of other procedures (a request the peer sent just before is answered,
and a local procedure is started, once it is over: :meth:`release_held`).

SKD and IV halves are drawn as one 96-bit number from the connection's random stream
(SKD in the low 64 bits), air order, least significant octet first.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import control_pdu as cp
from .control_link import Link
from .crypto import LlCipher
from .hci import events as ev
from .hci import le_events as le
from .hci.errors import ErrorCode

PIN_OR_KEY_MISSING = int(ErrorCode.PIN_OR_KEY_MISSING)
UNSUPPORTED_REMOTE_FEATURE = int(ErrorCode.UNSUPPORTED_REMOTE_FEATURE)
LTK_REQUEST_SUBEVENT = 0x05


@dataclass
class EncState:
    """What an encryption procedure in progress knows."""

    refresh: bool = False
    ltk: bytes | None = None
    rand: bytes = bytes(8)
    ediv: int = 0
    skd_m: bytes = bytes(8)
    iv_m: bytes = bytes(4)
    skd_s: bytes = bytes(8)
    iv_s: bytes = bytes(4)
    awaiting_ltk: bool = False
    cipher: LlCipher | None = None


class EncryptionProcedures:
    """Mixin: the encryption start and pause procedures (see the module docstring)."""

    # Provided by ControlProcedures.
    link: Link
    enc: EncState | None
    encrypted: bool

    # -- helpers the main class implements -------------------------------------------
    def _send(self, pdu: cp.ControlPdu) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _random96(self) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def _awaiting(self, now: int | None) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _finish_local(self, kind: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _reject(self, opcode: int, error: int) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def release_held(self, now: int) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- Central -----------------------------------------------------------------------
    def _enc_start_local(self, rand: bytes, ediv: int, ltk: bytes, now: int) -> None:
        link = self.link
        material = self._random96()
        self.enc = EncState(refresh=self.encrypted, ltk=ltk, rand=rand, ediv=ediv,
                            skd_m=material[:8], iv_m=material[8:])
        link.set_data_paused(True)
        if self.encrypted:
            self._send(cp.LL_PAUSE_ENC_REQ())
            self._awaiting(now)
            return
        self._send(cp.LL_ENC_REQ(rand=rand, ediv=ediv, skd_m=self.enc.skd_m, iv_m=self.enc.iv_m))
        self._awaiting(now)

    def _enc_failed(self, status: int) -> None:
        link = self.link
        self.enc = None
        link.set_data_paused(False)
        link.emit(ev.HCI_Encryption_Change_Event(
            status=status, connection_handle=link.handle, encryption_enabled=int(self.encrypted)))
        self._finish_local("encryption")

    def _enc_done(self) -> None:
        link = self.link
        st = self.enc
        self.enc = None
        self.encrypted = True
        link.set_data_paused(False)
        if st is not None and st.refresh:
            link.emit(ev.HCI_Encryption_Key_Refresh_Complete_Event(status=0, connection_handle=link.handle))
        else:
            link.emit(ev.HCI_Encryption_Change_Event(status=0, connection_handle=link.handle,
                                                     encryption_enabled=1))

    # -- received PDUs -------------------------------------------------------------------
    def _rx_enc(self, pdu: cp.ControlPdu, now: int) -> bool:
        """Handle an encryption PDU; False if it is not one of them."""
        link = self.link
        central = link.is_central
        st = self.enc
        if isinstance(pdu, cp.LL_ENC_REQ):
            if central:
                return False
            material = self._random96()
            refresh = self.encrypted or (st is not None and st.refresh)
            self.enc = EncState(refresh=refresh, rand=pdu.rand, ediv=pdu.ediv,
                                skd_m=pdu.skd_m, iv_m=pdu.iv_m, skd_s=material[:8], iv_s=material[8:],
                                awaiting_ltk=True)
            link.set_data_paused(True)
            self._send(cp.LL_ENC_RSP(skd_s=self.enc.skd_s, iv_s=self.enc.iv_s))
            if link.le_event_enabled(LTK_REQUEST_SUBEVENT):
                link.emit(le.HCI_LE_Long_Term_Key_Request_Event(
                    connection_handle=link.handle, random_number=pdu.rand, encrypted_diversifier=pdu.ediv))
            else:
                self.ltk_negative_reply(now)
            return True
        if isinstance(pdu, cp.LL_ENC_RSP):
            if not central or st is None or st.ltk is None:
                return False
            st.skd_s, st.iv_s = pdu.skd_s, pdu.iv_s
            st.cipher = LlCipher.from_air(st.ltk, st.skd_m, st.iv_m, st.skd_s, st.iv_s)
            self._awaiting(now)  # now LL_START_ENC_REQ
            return True
        if isinstance(pdu, cp.LL_START_ENC_REQ):
            if not central or st is None or st.cipher is None:
                return False
            link.set_cipher(st.cipher)
            link.set_rx_decrypt(True)
            link.set_tx_encrypt(True)
            self._send(cp.LL_START_ENC_RSP())
            self._awaiting(now)
            return True
        if isinstance(pdu, cp.LL_START_ENC_RSP):
            if st is None or st.cipher is None:
                return False
            if central:
                self._awaiting(None)
                self._enc_done()
                self._finish_local("encryption")
            else:
                link.set_tx_encrypt(True)
                self._send(cp.LL_START_ENC_RSP())
                self._awaiting(None)
                self._enc_done()
            return True
        if isinstance(pdu, cp.LL_PAUSE_ENC_REQ):
            if central or not self.encrypted:
                return False
            self.enc = EncState(refresh=True)
            link.set_data_paused(True)
            self._send(cp.LL_PAUSE_ENC_RSP())  # still encrypted
            link.set_rx_decrypt(False)
            self._awaiting(now)
            return True
        if isinstance(pdu, cp.LL_PAUSE_ENC_RSP):
            if central:
                if st is None or not self.encrypted:
                    return False
                link.set_rx_decrypt(False)
                link.set_tx_encrypt(False)
                self.encrypted = False
                self._send(cp.LL_PAUSE_ENC_RSP())  # in the clear
                self._send(cp.LL_ENC_REQ(rand=st.rand, ediv=st.ediv, skd_m=st.skd_m, iv_m=st.iv_m))
                self._awaiting(now)
            else:
                if st is None:
                    return False
                link.set_tx_encrypt(False)
                self.encrypted = False
                self._awaiting(now)  # now LL_ENC_REQ
            return True
        return False

    def _enc_rejected(self, error: int) -> None:
        """The peer rejected LL_ENC_REQ (LL_REJECT_IND / LL_REJECT_EXT_IND / unknown)."""
        link = self.link
        link.set_rx_decrypt(False)
        link.set_tx_encrypt(False)
        self.encrypted = False
        self._awaiting(None)
        self._enc_failed(error)

    # -- host replies (Peripheral) ------------------------------------------------------
    def ltk_reply(self, ltk: bytes, now: int) -> bool:
        """HCI_LE_Long_Term_Key_Request_Reply; False when no request is pending."""
        st = self.enc
        if st is None or not st.awaiting_ltk:
            return False
        link = self.link
        st.awaiting_ltk = False
        st.ltk = bytes(ltk)
        st.cipher = LlCipher.from_air(st.ltk, st.skd_m, st.iv_m, st.skd_s, st.iv_s)
        link.set_cipher(st.cipher)
        self._send(cp.LL_START_ENC_REQ())
        link.set_rx_decrypt(True)
        self._awaiting(now)  # now LL_START_ENC_RSP
        return True

    def ltk_negative_reply(self, now: int) -> bool:
        """HCI_LE_Long_Term_Key_Request_Negative_Reply; False when none is pending."""
        st = self.enc
        if st is None or not st.awaiting_ltk:
            return False
        link = self.link
        self.enc = None
        link.set_data_paused(False)
        self._reject(cp.LL_ENC_REQ.OPCODE, PIN_OR_KEY_MISSING)
        self.release_held(now)
        return True
