"""``BLE.l2cap_*``: LE credit-based channels as MicroPython's NimBLE build offers them.

Theory of operation
-------------------
MicroPython allows one channel at a time (``l2cap_listen`` or ``l2cap_connect``; a
second one is ``OSError(EALREADY)``) and identifies it by ``(conn_handle, cid)`` with our
local CID. Channels are the host's :class:`~host.l2cap_coc.CreditBasedChannel` with
credits returned by hand: the peer gets exactly enough credits for one SDU of our MTU,
received SDUs wait in a buffer that ``l2cap_recvinto`` empties, and only when it is
empty are the credits given back, so the peer cannot send more until the firmware has
consumed the data (``_IRQ_L2CAP_RECV (conn, cid)`` tells it to read).

``l2cap_send`` refuses a buffer above the peer's MTU or twice our MTU (EINVAL), returns
``False`` when the channel stalls for lack of credits (``_IRQ_L2CAP_SEND_READY (conn,
cid, 0)`` follows when it drains) and raises EBUSY if called while stalled. An incoming
request raises ``_IRQ_L2CAP_ACCEPT (conn, cid, psm, our_mtu, peer_mtu)``; a non-zero
return value refuses it (the peer sees "no resources"). The handler runs to completion
before the host answers whenever nothing else is pending; otherwise the channel is
accepted. ``_IRQ_L2CAP_CONNECT`` and ``_IRQ_L2CAP_DISCONNECT (conn, cid, psm, status)``
follow the channel; ``status`` is NimBLE's (``BLE_HS_ENOTSUP`` for an unknown PSM,
``BLE_HS_ENOMEM`` for a refusal, 0 for a normal disconnection). The BTstack build has no
L2CAP channels: every call is ``OSError(EOPNOTSUPP)``.
"""

from __future__ import annotations

from typing import Any

from host.l2cap_coc import ChannelCloseReason, CreditBasedChannel, L2capLocalError

from .ble_core import BleCore, ConnInfo, buffer_bytes
from .errors import (
    BLE_HS_EALREADY,
    BLE_HS_EAUTHEN,
    BLE_HS_EAUTHOR,
    BLE_HS_EENCRYPT,
    BLE_HS_EENCRYPT_KEY_SZ,
    BLE_HS_EINVAL,
    BLE_HS_ENOMEM,
    BLE_HS_ENOTSUP,
    BLE_HS_EREJECT,
    BLE_HS_ETIMEOUT,
    BLE_HS_EUNKNOWN,
    EALREADY,
    EBUSY,
    EINVAL,
    ENOTCONN,
    EOPNOTSUPP,
    raise_errno,
)
from .gap import IRQ

__all__ = ["L2capMixin"]

#: Largest K-frame payload offered (one LE data PDU of 251 octets minus the L2CAP header).
_MAX_MPS = 247
#: LE credit-based connection results (Vol 3 Part A 4.23) -> NimBLE status.
_RESULT_STATUS = {
    0x0002: BLE_HS_ENOTSUP,
    0x0004: BLE_HS_ENOMEM,
    0x0005: BLE_HS_EAUTHEN,
    0x0006: BLE_HS_EAUTHOR,
    0x0007: BLE_HS_EENCRYPT_KEY_SZ,
    0x0008: BLE_HS_EENCRYPT,
    0x0009: BLE_HS_EREJECT,
    0x000A: BLE_HS_EALREADY,
    0x000B: BLE_HS_EINVAL,
}


class _Chan:
    """MicroPython's single channel: the host channel and its receive buffer."""

    def __init__(self, channel: CreditBasedChannel, our_mtu: int) -> None:
        self.channel = channel
        self.our_mtu = our_mtu
        self.rx = bytearray()
        self.connected = False


def _sizes(mtu: int) -> tuple[int, int]:
    """(MPS, initial credits) for a channel of ``mtu``: credits for one whole SDU."""
    mps = max(23, min(mtu, _MAX_MPS))
    credits = -(-(mtu + 2) // mps)
    return mps, credits


class L2capMixin(BleCore):
    """The L2CAP part of ``BLE`` (see the module docstring)."""

    _l2cap_psm: int | None
    _l2cap_mtu: int
    _chan: _Chan | None

    def _init_l2cap(self) -> None:
        self._l2cap_psm = None
        self._l2cap_mtu = 0
        self._chan = None

    def _l2cap_deactivate(self) -> None:
        host = self._host
        if self._l2cap_psm is not None:
            try:
                host.l2cap.unlisten(self._l2cap_psm)
            except L2capLocalError:
                pass
        self._l2cap_psm = None
        self._chan = None

    def _l2cap_closed(self, info: ConnInfo) -> None:
        chan = self._chan
        if chan is not None and chan.channel.handle == info.handle:
            self._chan = None
            if chan.connected:
                c = chan.channel
                self._irq.post(IRQ.L2CAP_DISCONNECT, (c.handle, c.local_cid, c.psm, 0))

    def _check_l2cap(self) -> None:
        self._check_active()
        if not self._nimble:
            raise_errno(EOPNOTSUPP)

    # -- API ----------------------------------------------------------------------------

    def l2cap_listen(self, psm: int, mtu: int) -> None:
        """``BLE.l2cap_listen(psm, mtu)``: accept channels on ``psm`` with our ``mtu``."""
        self._check_l2cap()
        if self._l2cap_psm is not None or self._chan is not None:
            raise_errno(EALREADY)
        mtu = int(mtu)
        mps, credits = _sizes(mtu)
        try:
            self._host.l2cap.listen(int(psm), mtu, mps, credits, self._on_accept, auto_credits=False)
        except L2capLocalError:
            raise_errno(EINVAL)
        self._l2cap_psm = int(psm)
        self._l2cap_mtu = mtu

    def l2cap_connect(self, conn_handle: int, psm: int, mtu: int) -> None:
        """``BLE.l2cap_connect(conn_handle, psm, mtu)``."""
        self._check_l2cap()
        if self._chan is not None or self._l2cap_psm is not None:
            raise_errno(EALREADY)
        conn = int(conn_handle)
        if conn not in self._conns:
            raise_errno(ENOTCONN)
        mtu = int(mtu)
        mps, credits = _sizes(mtu)
        try:
            channel = self._host.l2cap.connect(conn, int(psm), mtu, mps, credits, self._now, auto_credits=False)
        except L2capLocalError:
            raise_errno(EINVAL)
        self._adopt(channel, mtu)
        self._service()

    def l2cap_disconnect(self, conn_handle: int, cid: int) -> None:
        """``BLE.l2cap_disconnect(conn_handle, cid)``."""
        self._check_l2cap()
        chan = self._find(conn_handle, cid)
        try:
            chan.channel.disconnect(self._now)
        except L2capLocalError:
            raise_errno(ENOTCONN)
        self._service()

    def l2cap_send(self, conn_handle: int, cid: int, buf: Any) -> bool:
        """``BLE.l2cap_send(conn_handle, cid, buf)``: False when the channel stalled."""
        self._check_l2cap()
        chan = self._find(conn_handle, cid)
        data = buffer_bytes(buf)
        channel = chan.channel
        if len(data) > channel.peer_mtu or len(data) > 2 * chan.our_mtu:
            raise_errno(EINVAL)
        if channel.stalled:
            raise_errno(EBUSY)
        try:
            sent = channel.send(data)
        except L2capLocalError:
            raise_errno(ENOTCONN)
        self._service()
        return sent

    def l2cap_recvinto(self, conn_handle: int, cid: int, buf: Any) -> int:
        """``BLE.l2cap_recvinto(conn_handle, cid, buf)``: octets copied into ``buf``, or
        with ``buf`` None the octets waiting."""
        self._check_l2cap()
        chan = self._find(conn_handle, cid)
        if buf is None:
            return len(chan.rx)
        view = memoryview(buf)
        if view.readonly:
            raise TypeError("object with buffer protocol required")
        view = view.cast("B")
        n = min(len(view), len(chan.rx))
        view[:n] = chan.rx[:n]
        del chan.rx[:n]
        if not chan.rx and chan.channel.is_open:
            try:
                chan.channel.give_credits()
            except L2capLocalError:
                pass
            self._service()
        return n

    # -- channel plumbing -----------------------------------------------------------------

    def _find(self, conn_handle: Any, cid: Any) -> _Chan:
        chan = self._chan
        if chan is None or chan.channel.handle != int(conn_handle) or chan.channel.local_cid != int(cid):
            raise_errno(ENOTCONN)
        return chan

    def _adopt(self, channel: CreditBasedChannel, our_mtu: int) -> _Chan:
        chan = _Chan(channel, our_mtu)
        self._chan = chan
        channel.on_open = lambda c, now: self._opened(chan)
        channel.on_close = lambda c, reason, now: self._closed_channel(chan, reason)
        channel.on_sdu = lambda c, sdu, now: self._received(chan, sdu)
        channel.on_send_ready = lambda c, now: self._irq.post(IRQ.L2CAP_SEND_READY, (c.handle, c.local_cid, 0))
        return chan

    def _on_accept(self, channel: CreditBasedChannel, now: int) -> bool | int | None:
        if self._closed or not self._active or self._chan is not None:
            return False
        data = (channel.handle, channel.local_cid, channel.psm, channel.mtu, channel.peer_mtu)
        done, result = self._irq.call_sync(IRQ.L2CAP_ACCEPT, data)
        if done and result:
            return False
        self._adopt(channel, channel.mtu)
        return None

    def _opened(self, chan: _Chan) -> None:
        if self._chan is not chan:
            return
        chan.connected = True
        c = chan.channel
        self._irq.post(IRQ.L2CAP_CONNECT, (c.handle, c.local_cid, c.psm, chan.our_mtu, c.peer_mtu))

    def _closed_channel(self, chan: _Chan, reason: ChannelCloseReason) -> None:
        if self._chan is not chan:
            return
        self._chan = None
        c = chan.channel
        status = 0
        if not chan.connected:
            if reason is ChannelCloseReason.REFUSED:
                status = _RESULT_STATUS.get(int(c.result or 0), BLE_HS_EUNKNOWN)
            elif reason is ChannelCloseReason.TIMEOUT:
                status = BLE_HS_ETIMEOUT
            else:
                status = BLE_HS_EUNKNOWN
        self._irq.post(IRQ.L2CAP_DISCONNECT, (c.handle, c.local_cid, c.psm, status))

    def _received(self, chan: _Chan, sdu: bytes) -> None:
        if self._chan is not chan:
            return
        chan.rx += sdu
        c = chan.channel
        self._irq.post(IRQ.L2CAP_RECV, (c.handle, c.local_cid))
