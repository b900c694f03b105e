"""Hasomed ScienceMode2 (RehaStim 2): the wire codec, the driver and a pty emulator.

- :mod:`.codec` — command numbers, result codes, CRC-8, stuffing, ``encode_frame`` and the
  streaming ``FrameDecoder`` (pure, no I/O): what a driver needs to talk to the device.
- :mod:`.payloads` — typed command data (``InitChannelListMode``, ``StartChannelListMode``,
  ``SinglePulse``, the Acks, ``StimulationError``) with ``encode``/``decode``, spec ranges and
  ms ↔ interval-code conversions.
- :mod:`.driver` — ``RehaStim2``, the :class:`~stimwise.device.interface.Stimulator` driver,
  built on :mod:`.link` (handshake, the §4 recovery, the Watchdog keep-alive) and :mod:`.mapping`
  (verified plan → channel-list parameters, or every reason the device cannot represent it),
  over the shared :mod:`~stimwise.device.serial_transport`, :mod:`~stimwise.device.framed_link`
  and :mod:`~stimwise.device.linked_driver`.
- :mod:`.emulator` — ``RehaStim2Emulator`` on a pseudo-terminal (the shared
  :mod:`~stimwise.device.pty_emulator`), built on :mod:`.firmware` (modes, validation, watchdog)
  and :mod:`.pulses` (the virtual output).

Names are imported from their module; importing the package opens nothing. Facts and sources:
``shared/reference/sciencemode2-device.md``.
"""
