"""The controller: blesim's link layer, behind a real HCI.

Theory of operation
-------------------
A :class:`linklayer.controller.Controller` is a sans-IO state object. It has three
inputs: HCI packets from its host (bytes, see :mod:`linklayer.hci`), packets from its
radio (:class:`linklayer.radio.RadioPacket`, plus the moment the radio synchronised to
one), and its timer (``handle_timer(now)`` at the instant ``get_timer()`` asked for).
It has two outputs: HCI packets for its host and radio operations
(:mod:`linklayer.radio`) for its driver to carry out on the medium.

Inside, the roles that want the radio — advertising sets, the scanner, the initiator and
every connection — each propose their next radio activity; the per-controller scheduler
grants the single radio by priority, and an activity that loses is skipped as on real
hardware.

PDU codecs (:mod:`linklayer.pdu`, :mod:`linklayer.control_pdu`,
:mod:`linklayer.data_pdu`), CRC/whitening/CCM (:mod:`linklayer.crypto`) and the channel
selection algorithms (:mod:`linklayer.channels`) are pure functions and frozen
dataclasses used by the roles.

Where things are
----------------
* HCI front: :mod:`linklayer.controller` with its command groups ``ctrl_*``
  (advertising, scanning, connections, commands on a connection, privacy); the codecs in
  :mod:`linklayer.hci`.
* Roles: :mod:`linklayer.advertiser`, :mod:`linklayer.scanner`,
  :mod:`linklayer.initiator`, :mod:`linklayer.connection` (with ``connection_data``,
  ``connection_timing``), LL control procedures in :mod:`linklayer.control`
  (``control_enc``, ``control_link``); the radio in :mod:`linklayer.scheduler` and
  :mod:`linklayer.radio`.
* Pure parts: :mod:`linklayer.pdu`, :mod:`linklayer.pdu_ext`, :mod:`linklayer.data_pdu`,
  :mod:`linklayer.control_pdu`, :mod:`linklayer.crypto`, :mod:`linklayer.channels`.
"""
