# L2CAP connection-oriented channels with credit-based flow control: the server listens
# (accept IRQ, then connect IRQ with both MTUs), the client sends 2000 bytes in 200-byte
# SDUs while the server drains its receive buffer slowly, so l2cap_send stalls (returns
# False) and resumes on _IRQ_L2CAP_SEND_READY; every byte arrives in order; then the
# client closes the channel (_IRQ_L2CAP_DISCONNECT on both sides).
from micropython import const
import time, machine, bluetooth

TIMEOUT_MS = 5000

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_PERIPHERAL_CONNECT = const(7)
_IRQ_PERIPHERAL_DISCONNECT = const(8)
_IRQ_L2CAP_ACCEPT = const(22)
_IRQ_L2CAP_CONNECT = const(23)
_IRQ_L2CAP_DISCONNECT = const(24)
_IRQ_L2CAP_RECV = const(25)
_IRQ_L2CAP_SEND_READY = const(26)

PSM = const(0x81)
SERVER_MTU = const(512)
CLIENT_MTU = const(256)
SDU_SIZE = const(200)
SDU_COUNT = const(10)

pending = {}


def irq(event, data):
    if event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT, _IRQ_PERIPHERAL_CONNECT,
                 _IRQ_PERIPHERAL_DISCONNECT):
        pending[event] = data[0]
    elif event == _IRQ_L2CAP_ACCEPT:
        conn_handle, cid, psm, our_mtu, peer_mtu = data
        print("_IRQ_L2CAP_ACCEPT", psm, our_mtu, peer_mtu)
    elif event == _IRQ_L2CAP_CONNECT:
        conn_handle, cid, psm, our_mtu, peer_mtu = data
        print("_IRQ_L2CAP_CONNECT", psm, our_mtu, peer_mtu)
        pending[event] = cid
    elif event == _IRQ_L2CAP_DISCONNECT:
        conn_handle, cid, psm, status = data
        print("_IRQ_L2CAP_DISCONNECT", psm, status)
        pending[event] = status
    elif event == _IRQ_L2CAP_RECV:
        pending[event] = True
    elif event == _IRQ_L2CAP_SEND_READY:
        pending[event] = data[2]


def wait_for_irq(event, timeout_ms=TIMEOUT_MS):
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < timeout_ms:
        if event in pending:
            return pending.pop(event)
        machine.idle()
    raise ValueError("no event {} within {} ms".format(event, timeout_ms))


def payload(i):
    return bytes((i * 7 + j) & 0xFF for j in range(SDU_SIZE))


ble = bluetooth.BLE()
ble.active(1)
ble.irq(irq)


# Server: listens, then reads slowly.
def instance0():
    multitest.globals(BDADDR=ble.config("mac"))
    ble.l2cap_listen(PSM, SERVER_MTU)
    ble.gap_advertise(20_000, b"\x02\x01\x06\x04\x09MPY")
    multitest.next()
    try:
        conn = wait_for_irq(_IRQ_CENTRAL_CONNECT)
        cid = wait_for_irq(_IRQ_L2CAP_CONNECT)
        received = bytearray()
        buf = bytearray(64)
        while len(received) < SDU_SIZE * SDU_COUNT:
            wait_for_irq(_IRQ_L2CAP_RECV)
            time.sleep_ms(50)  # a slow reader: the sender runs out of credits
            while True:
                n = ble.l2cap_recvinto(conn, cid, buf)
                if n == 0:
                    break
                received.extend(buf[:n])
        expected = b"".join(payload(i) for i in range(SDU_COUNT))
        print("received", len(received), "bytes, in order:", bytes(received) == expected)
        print("available", ble.l2cap_recvinto(conn, cid, None))
        multitest.broadcast("received")
        wait_for_irq(_IRQ_L2CAP_DISCONNECT)
        wait_for_irq(_IRQ_CENTRAL_DISCONNECT)
    finally:
        ble.active(0)


# Client: connects the channel and sends as fast as credits allow.
def instance1():
    multitest.next()
    try:
        ble.gap_connect(BDADDR[0], BDADDR[1], 5000)
        conn = wait_for_irq(_IRQ_PERIPHERAL_CONNECT)
        ble.l2cap_connect(conn, PSM, CLIENT_MTU)
        cid = wait_for_irq(_IRQ_L2CAP_CONNECT)
        stalls = 0
        for i in range(SDU_COUNT):
            if not ble.l2cap_send(conn, cid, payload(i)):
                stalls += 1
                wait_for_irq(_IRQ_L2CAP_SEND_READY)
        print("sent", SDU_SIZE * SDU_COUNT, "bytes, stalled:", stalls > 0)
        multitest.wait("received")
        ble.l2cap_disconnect(conn, cid)
        wait_for_irq(_IRQ_L2CAP_DISCONNECT)
        ble.gap_disconnect(conn)
        wait_for_irq(_IRQ_PERIPHERAL_DISCONNECT)
    finally:
        ble.active(0)
