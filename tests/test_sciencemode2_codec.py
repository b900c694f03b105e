"""ScienceMode2 codec: golden vectors (fact sheet §7), round trips, tolerance, resynchronisation."""

from __future__ import annotations

import itertools

import crccheck
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pysciencemode.utils import packet_construction

from stimwise.device.sciencemode2 import payloads as pl
from stimwise.device.sciencemode2.codec import (
    ACK_OF,
    Command,
    DecodedFrame,
    FrameDecoder,
    FrameError,
    Result,
    command_name,
    crc8,
    encode_frame,
    is_motomed_command,
    stuff,
    unstuff,
)
from stimwise.errors import InputError

SPECIAL = (0xF0, 0x0F, 0x81, 0x55, 0x0A)
data_bytes = st.lists(st.sampled_from(SPECIAL) | st.integers(0, 255), max_size=60).map(bytes)


def decode_one(hex_frame: str) -> DecodedFrame:
    [frame] = FrameDecoder().feed(bytes.fromhex(hex_frame))
    assert isinstance(frame, DecodedFrame), frame
    return frame


# --------------------------------------------------------------------------- golden vectors

SPEC_FORM = [
    # (frame, packet number, command, data) — fact sheet §7, "spec-form golden vectors"
    ("f0 81 49 81 57 02 0a 0f", 2, Command.GET_STIMULATION_MODE, b""),
    ("f0 81 9b 81 51 02 0b 00 02 0f", 2, Command.GET_STIMULATION_MODE_ACK, b"\x00\x02"),
    ("f0 81 1a 81 53 05 24 00 00 c8 14 0f", 5, Command.SINGLE_PULSE, bytes((0, 0, 200, 20))),
    ("f0 81 67 81 56 07 26 fe 0f", 7, Command.STIMULATION_ERROR, b"\xfe"),
    ("f0 81 26 81 56 02 03 5f 0f", 2, Command.UNKNOWN_COMMAND, b"\x5f"),
    ("f0 81 61 81 5c 81 5a 20 00 00 81 a5 81 5a 0f", 15, Command.START_CHANNEL_LIST_MODE,
     bytes((0, 0, 0xF0, 0x0F))),
]  # fmt: skip

DEVICE_TRACE = [
    # frames the canned responder sent (spec-conformant, so our encoder must match them exactly)
    ("f0 81 47 81 56 00 01 01 0f", 0, Command.INIT, b"\x01"),
    ("f0 81 12 81 56 02 23 00 0f", 2, Command.STOP_CHANNEL_LIST_MODE_ACK, b"\x00"),
    ("f0 81 c1 81 56 00 1f 00 0f", 0, Command.INIT_CHANNEL_LIST_MODE_ACK, b"\x00"),
    ("f0 81 85 81 56 01 21 00 0f", 1, Command.START_CHANNEL_LIST_MODE_ACK, b"\x00"),
]

PSM_TRACE = [
    # frames pyScienceMode sent (§7), including its quirks: 0A over-stuffed as 81 5F in data,
    # and a raw 0F at header offset 2 (§5c)
    ("f0 81 49 81 57 00 04 0f", 0, Command.WATCHDOG, b""),
    ("f0 81 7f 81 56 00 02 00 0f", 0, Command.INIT_ACK, b"\x00"),
    ("f0 81 91 81 57 02 22 0f", 2, Command.STOP_CHANNEL_LIST_MODE, b""),
    ("f0 81 32 81 5c 00 1e 02 05 04 07 00 3a 00 0f", 0, Command.INIT_CHANNEL_LIST_MODE,
     bytes.fromhex("02 05 04 07 00 3a 00")),
    ("f0 81 5a 81 5e 01 20 00 01 2c 81 5f 01 01 00 14 0f", 1, Command.START_CHANNEL_LIST_MODE,
     bytes.fromhex("00 01 2c 0a 01 01 00 14")),
    ("f0 81 63 81 57 02 04 0f", 2, Command.WATCHDOG, b""),
    ("f0 81 92 81 5f 03 20 00 01 2c 00 01 01 00 00 0f", 3, Command.START_CHANNEL_LIST_MODE,
     bytes.fromhex("00 01 2c 00 01 01 00 00")),
    ("f0 81 ef 81 57 04 22 0f", 4, Command.STOP_CHANNEL_LIST_MODE, b""),
    ("f0 81 0f 81 52 0e 20 00 00 81 a5 12 0f", 14, Command.START_CHANNEL_LIST_MODE,
     bytes((0, 0, 0xF0, 0x12))),
]  # fmt: skip


@pytest.mark.parametrize(("frame", "number", "command", "data"), SPEC_FORM + DEVICE_TRACE)
def test_encoder_reproduces_the_spec_form_vectors(frame, number, command, data):
    assert encode_frame(number, command, data).hex(" ") == frame
    decoded = decode_one(frame)
    assert (decoded.packet_number, decoded.command, decoded.data) == (number, command, data)


@pytest.mark.parametrize(("frame", "number", "command", "data"), PSM_TRACE)
def test_decoder_accepts_every_frame_pyscience_mode_sent(frame, number, command, data):
    decoded = decode_one(frame)
    assert (decoded.packet_number, decoded.command, decoded.data) == (number, command, data)
    assert decoded.raw == bytes.fromhex(frame)


def test_trace_payloads_decode_to_the_documented_settings():
    init = pl.InitChannelListMode.decode(PSM_TRACE[3][3])
    assert (
        init.low_frequency_factor,
        init.channels,
        pl.channels_in(init.low_frequency_channels),
    ) == (
        2,
        (1, 3),
        (3,),
    )
    assert (init.t2_ms, init.t1_ms, init.execution) == (5.0, 30.0, 0)
    start = pl.StartChannelListMode.decode(PSM_TRACE[4][3])
    assert start.channels == (
        pl.ChannelSettings(pl.PulseMode.SINGLE, 300, 10),
        pl.ChannelSettings(pl.PulseMode.DOUBLET, 256, 20),
    )
    assert pl.StimulationModeAck.decode(SPEC_FORM[1][3]) == pl.StimulationModeAck(
        Result.OK, pl.StimulationMode.STARTED
    )
    assert pl.SinglePulse.decode(SPEC_FORM[2][3]) == pl.SinglePulse(0, 200, 20)
    assert pl.StimulationError.decode(SPEC_FORM[3][3]).error == pl.StimulationErrorCode.ELECTRODE
    assert pl.UnknownCommand.decode(SPEC_FORM[4][3]).command == 95


def test_payload_builders_reproduce_the_trace_bytes():
    init = pl.InitChannelListMode.from_ms(
        t1_ms=30, channels=[1, 3], t2_ms=5, low_frequency_channels=[3], low_frequency_factor=2
    )
    assert init.encode() == PSM_TRACE[3][3]
    start = pl.StartChannelListMode(
        (pl.ChannelSettings(0, 300, 10), pl.ChannelSettings(1, 256, 20))
    )
    assert start.encode() == PSM_TRACE[4][3]
    assert pl.SinglePulse(0, 200, 20).encode() == SPEC_FORM[2][3]
    assert pl.StimulationModeAck(Result.OK, pl.StimulationMode.STARTED).encode() == b"\x00\x02"
    assert pl.StimulationError(pl.StimulationErrorCode.ELECTRODE).encode() == b"\xfe"
    assert pl.UnknownCommand(95).encode() == b"\x5f"
    assert pl.Init().encode() == b"\x01"
    assert pl.Ack(Result.VERSION_ERROR).encode() == b"\xfb"


# --------------------------------------------------------------------------- CRC and stuffing


def test_crc8_check_value_and_oracle():
    assert crc8(b"123456789") == 0xF4
    assert crc8(b"") == 0


@given(st.binary(max_size=200))
def test_crc8_matches_crccheck(data):
    assert crc8(data) == crccheck.crc.Crc8.calc(data)


@given(data_bytes)
def test_stuffing_round_trips_and_leaves_no_special_byte(data):
    stuffed = stuff(data)
    assert unstuff(stuffed) == data
    plain = stuffed.replace(b"\x81", b"")  # what remains once the escapes are taken out
    assert 0xF0 not in plain and 0x0F not in plain
    assert 0x55 in data or 0x55 not in stuffed  # 55 is not escaped (spec)


def test_unstuff_refuses_a_dangling_escape():
    with pytest.raises(InputError, match="dangling"):
        unstuff(b"\x01\x81")


# --------------------------------------------------------------------------- round trips


ALL_SPECIAL_DATA = bytes(SPECIAL) * 2


def assert_round_trip(packet_number: int, command: int, data: bytes) -> None:
    frame = encode_frame(packet_number, command, data)
    assert frame[0] == 0xF0 and frame[-1] == 0x0F and frame[1] == frame[3] == 0x81
    assert 0xF0 not in frame[5:] and 0x0F not in frame[5:-1]
    [decoded] = FrameDecoder().feed(frame)
    assert decoded == DecodedFrame(packet_number, command, data, frame)


def test_every_packet_number_round_trips_with_every_special_byte():
    for packet_number in range(256):
        for command in (*SPECIAL, Command.START_CHANNEL_LIST_MODE):
            assert_round_trip(packet_number, command, ALL_SPECIAL_DATA)


@given(packet_number=st.integers(0, 255), command=st.integers(0, 255), data=data_bytes)
def test_any_frame_round_trips(packet_number, command, data):
    assert_round_trip(packet_number, command, data)


def test_pyscience_mode_frames_decode_for_every_packet_number():
    """pSM XORs special packet numbers with 55 without escaping them (10 → 5F, 85 → 00, ...),
    and escapes data bytes 55 and 0A too; the decoder reports the number as it arrived and the
    data as intended."""
    for packet_number in range(256):
        frame = packet_construction(packet_number, "StartChannelListMode", list(ALL_SPECIAL_DATA))
        [decoded] = FrameDecoder().feed(frame)
        assert isinstance(decoded, DecodedFrame), decoded
        expected = packet_number ^ 0x55 if packet_number in SPECIAL else packet_number
        assert decoded.packet_number == expected
        assert (decoded.command, decoded.data) == (32, ALL_SPECIAL_DATA)


@given(packet_number=st.integers(0, 255), data=data_bytes)
def test_pyscience_mode_frames_decode_with_any_data(packet_number, data):
    frame = packet_construction(packet_number, "StartChannelListMode", list(data))
    [decoded] = FrameDecoder().feed(frame)
    assert isinstance(decoded, DecodedFrame) and decoded.data == data


def test_pyscience_mode_misstuffs_get_stimulation_mode_into_command_5f():
    [decoded] = FrameDecoder().feed(packet_construction(3, "GetStimulationMode"))
    assert decoded.command == 0x5F
    assert command_name(decoded.command) == "command 95"


# --------------------------------------------------------------------------- the receiver


def frame_with(byte: int, offset: int) -> bytes:
    """A valid frame with a raw ``byte`` (F0 or 0F) at header offset 2 (CRC) or 4 (LEN)."""
    if offset == 4:  # LEN^55 == 0F means 90 stuffed bytes: 2 + 60 data bytes, 28 escaped
        return encode_frame(1, 32, b"\xf0" * 28 + bytes(32))
    for number in range(256):
        frame = encode_frame(number, 32, bytes(4))
        if frame[offset] == byte:
            return frame
    raise AssertionError("no such frame")


@pytest.mark.parametrize(("byte", "offset"), [(0xF0, 2), (0x0F, 2), (0x0F, 4)])
def test_the_byte_after_81_is_data_even_if_it_is_f0_or_0f(byte, offset):
    frame = frame_with(byte, offset)
    assert frame[offset] == byte
    [decoded] = FrameDecoder().feed(frame)
    assert isinstance(decoded, DecodedFrame)


def test_a_second_start_byte_discards_the_unfinished_frame():
    good = encode_frame(9, Command.STOP_CHANNEL_LIST_MODE)
    stream = b"junk\x0f" + good[:5] + good
    assert FrameDecoder().feed(stream) == [DecodedFrame(9, 34, b"", good)]


def test_a_corrupted_crc_yields_a_frame_error_with_the_command():
    frame = bytearray(encode_frame(7, Command.INIT_CHANNEL_LIST_MODE, bytes(7)))
    frame[2] ^= 0x01
    [error] = FrameDecoder().feed(bytes(frame))
    assert error == FrameError("CRC mismatch", bytes(frame), 30, 7)


def test_a_wrong_length_yields_a_frame_error_with_the_command():
    frame = bytearray(encode_frame(7, Command.START_CHANNEL_LIST_MODE, bytes(4)))
    frame[4] ^= 0x02
    [error] = FrameDecoder().feed(bytes(frame))
    assert isinstance(error, FrameError) and error.reason.startswith("length")
    assert (error.command, error.packet_number) == (32, 7)


@pytest.mark.parametrize(
    ("stream", "reason"),
    [
        ("f0 81 49 0f", "frame too short"),
        ("f0 00 49 81 57 02 0a 0f", "no stuffing byte 81 at offset 1 or 3"),
        ("f0 81 49 81 57 0f", "frame too short"),
        ("f0 81 49 81 56 81 a5 0f", "no packet number and command"),
    ],
)
def test_malformed_frames_yield_errors_without_a_command(stream, reason):
    [error] = FrameDecoder().feed(bytes.fromhex(stream))
    assert isinstance(error, FrameError) and error.reason == reason and error.command is None


def test_a_runaway_frame_is_cut_and_the_decoder_recovers():
    good = encode_frame(1, Command.WATCHDOG)
    items = FrameDecoder().feed(b"\xf0" + b"\x01" * 300 + good)
    assert isinstance(items[0], FrameError) and items[0].reason == "frame too long"
    assert items[-1] == DecodedFrame(1, 4, b"", good)


@given(
    frames=st.lists(
        st.tuples(st.integers(0, 255), st.sampled_from(list(Command)), data_bytes), max_size=6
    ),
    junk=st.binary(max_size=8).filter(lambda b: 0xF0 not in b),
    cuts=st.lists(st.integers(0, 400), max_size=10),
)
def test_chunk_boundaries_do_not_matter(frames, junk, cuts):
    stream = junk + b"".join(encode_frame(n, c, d) for n, c, d in frames) + junk
    whole = FrameDecoder().feed(stream)
    bytewise = FrameDecoder()
    one_by_one = [item for byte in stream for item in bytewise.feed(bytes((byte,)))]
    chunked = FrameDecoder()
    edges = [0, *sorted(c for c in cuts if c < len(stream)), len(stream)]
    pieces = [item for a, b in itertools.pairwise(edges) for item in chunked.feed(stream[a:b])]
    assert whole == one_by_one == pieces
    assert [(f.packet_number, f.command, f.data) for f in whole] == frames


# --------------------------------------------------------------------------- enums and checks


def test_result_codes_are_signed_bytes():
    assert [Result.from_byte(b) for b in (0x00, 0xFF, 0xFE, 0xF8)] == [
        Result.OK,
        Result.TRANSFER_ERROR,
        Result.PARAMETER_ERROR,
        Result.DEVICE_BUSY,
    ]
    assert all(Result.from_byte(r.to_byte()) == r for r in Result)
    with pytest.raises(InputError, match="result"):
        Result.from_byte(0x05)


def test_acks_are_the_request_plus_one_and_motomed_is_a_range():
    assert all(ack == request + 1 for request, ack in ACK_OF.items())
    assert Command.WATCHDOG not in ACK_OF
    assert is_motomed_command(50) and is_motomed_command(90) and not is_motomed_command(91)


def test_encode_frame_names_every_bad_field():
    with pytest.raises(InputError) as raised:
        encode_frame(256, -1, bytes(61))
    assert [p.path for p in raised.value.problems] == ["packet_number", "command", "data"]


def test_interval_codes_convert_both_ways():
    assert pl.t1_code_from_ms(1025) == 2048 and pl.t1_ms_from_code(2048) == 1025
    assert pl.InitChannelListMode.from_ms(t1_ms=1025, channels=[1]).encode()[4:6] == b"\x08\x00"
    assert pl.t1_code_from_ms(33.3) == 65  # rounded to the 0.5 ms grid: 33.5 ms
    assert pl.t2_code_from_ms(1.5) == 0 and pl.t2_code_from_ms(129) == 255
    one_shot = pl.InitChannelListMode.from_ms(t1_ms=None, channels=[2])
    assert one_shot.one_shot and one_shot.t1_ms is None and one_shot.t1_code == 0


def test_from_ms_reports_every_problem_with_field_value_and_expectation():
    with pytest.raises(InputError) as raised:
        pl.InitChannelListMode.from_ms(t1_ms=2000, t2_ms=0.5, channels=[0, 9])
    described = [p.describe() for p in raised.value.problems]
    assert described[0] == "t1_ms: got 2000; expected an interval from 1.5 to 1025 ms"
    assert [p.path for p in raised.value.problems] == ["t1_ms", "t2_ms", "channels", "channels"]
    with pytest.raises(InputError, match="subset of the active channels"):
        pl.InitChannelListMode.from_ms(t1_ms=40, channels=[1], low_frequency_channels=[2])
    with pytest.raises(InputError, match="low_frequency_factor"):
        pl.InitChannelListMode.from_ms(t1_ms=40, channels=[1], low_frequency_factor=8)


def test_channel_masks_use_bit_0_for_channel_1():
    assert pl.channel_mask([1, 3]) == 0x05 and pl.channels_in(0x81) == (1, 8)


def test_out_of_range_values_are_listed_clamped_and_never_encoded():
    request = pl.StartChannelListMode(
        (pl.ChannelSettings(3, 600, 131), pl.ChannelSettings(1, 200, 20))
    )
    assert [p.path for p in request.problems()] == [
        "StartChannelListMode.channels[0].mode",
        "StartChannelListMode.channels[0].pulse_width_us",
        "StartChannelListMode.channels[0].current_ma",
    ]
    assert request.clamped().channels[0] == pl.ChannelSettings(pl.PulseMode.SINGLE, 500, 130)
    with pytest.raises(InputError):
        request.encode()
    with pytest.raises(InputError, match="channel_index"):
        pl.SinglePulse(8, 200, 20).encode()
    assert pl.SinglePulse(7, 200, 20).channel == 8


@pytest.mark.parametrize(
    ("payload", "data"),
    [
        (pl.Init, b""),
        (pl.Ack, b"\x00\x00"),
        (pl.UnknownCommand, b""),
        (pl.StimulationModeAck, b"\x00"),
        (pl.StimulationError, b"\x05"),
        (pl.InitChannelListMode, bytes(6)),
        (pl.StartChannelListMode, bytes(5)),
        (pl.SinglePulse, bytes(3)),
    ],
)
def test_decoders_refuse_malformed_data(payload, data):
    with pytest.raises(InputError):
        payload.decode(data)


def test_stimulation_mode_ack_carries_a_mode_only_with_result_0():
    assert pl.StimulationModeAck.decode(b"\xf8") == pl.StimulationModeAck(Result.DEVICE_BUSY)
    with pytest.raises(InputError):
        pl.StimulationModeAck(Result.OK).encode()
