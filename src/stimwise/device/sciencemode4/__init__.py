"""Hasomed ScienceMode4 (RehaMove P24): the wire codec, the driver and a pty emulator.

- :mod:`.codec` — command numbers, result codes, CRC-16, stuffing, ``encode_frame`` and the
  streaming ``FrameDecoder`` (pure, no I/O).
- :mod:`.payloads` — typed command data of the general, low and mid levels (points, Ml_update,
  Ml_get_current_data and its answer, Ll_channel_config ...) with ``encode``/``decode`` and the
  protocol's ranges.
- :mod:`.driver` — ``RehaMoveP24``, the :class:`~stimwise.device.interface.Stimulator` driver
  (``p24:PORT`` in the device registry), built on :mod:`.link` (ScienceMode4 on the shared
  :mod:`~stimwise.device.framed_link`) and :mod:`.mapping` (verified plan → mid-level point
  lists, or every reason the P24 cannot represent it), with the shared
  :mod:`~stimwise.device.linked_driver`.
- :mod:`.emulator` — ``P24Emulator`` on a pseudo-terminal (the shared
  :mod:`~stimwise.device.pty_emulator`), built on :mod:`.firmware` (levels, validation, the
  keep-alive rule, faults) and :mod:`.pulses` (the virtual output).

Names are imported from their module; importing the package opens nothing. Facts and sources:
``docs/reference/sciencemode4.md``.
"""
