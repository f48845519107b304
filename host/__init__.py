"""The host stack: HCI driver, L2CAP, ATT/GATT, SMP, GAP.

Theory of operation
-------------------
The host talks to its controller only through HCI packets (bytes) and an injected clock,
so the same objects run over a simulated controller, a real USB/UART dongle or a TCP
link. Each layer is a sans-IO object: it takes PDUs and the current time and gives back
PDUs to send, events for the layer above and its next deadline.

Where things are
----------------
* :mod:`host.host` composes the layers over one controller; :mod:`host.hci` is the HCI
  driver (command flow control, ACL fragmentation and buffers), :mod:`host.power_on` its
  start-up sequence; :mod:`host.events` the events the application sees.
* GAP: :mod:`host.gap` (advertising, scanning, connecting), :mod:`host.gap_params`,
  :mod:`host.gap_updates` (connection parameters), :mod:`host.gap_phy` (PHY, data
  length), :mod:`host.privacy` (RPAs, resolution), :mod:`host.advertising_data`.
* L2CAP: :mod:`host.l2cap`, :mod:`host.l2cap_coc` (credit-based channels),
  :mod:`host.l2cap_pdu`.
* ATT/GATT: :mod:`host.att` (the bearer), ``host.att_pdu*`` and :mod:`host.att_constants`
  (PDUs, opcodes, errors), :mod:`host.gatt_db`, :mod:`host.gatt_server` with
  :mod:`host.gatt_requests` and :mod:`host.gatt_services`, :mod:`host.gatt_client`,
  :mod:`host.uuid`.
* SMP: :mod:`host.smp` (one connection's Security Manager), :mod:`host.smp_legacy`,
  :mod:`host.smp_sc`, :mod:`host.smp_keys` (phases 2 and 3), :mod:`host.smp_crypto`,
  :mod:`host.smp_signing`, :mod:`host.smp_pdu`, :mod:`host.smp_types`,
  :mod:`host.smp_events`; keys kept in :mod:`host.bonds`.
"""
