"""ScienceMode4 codec and payloads: framing, CRC-16, stuffing, the packet lengths of the P24's
instructions for use, and byte-for-byte agreement with the independent ``science-mode-4``
client (0.0.23) in both directions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from science_mode_4.low_level.low_level_channel_config import PacketLowLevelChannelConfig
from science_mode_4.mid_level.mid_level_current_data import PacketMidLevelGetCurrentDataAck
from science_mode_4.mid_level.mid_level_types import MidLevelChannelConfiguration
from science_mode_4.mid_level.mid_level_update import PacketMidLevelUpdate
from science_mode_4.protocol.channel_point import ChannelPoint as ClientPoint
from science_mode_4.protocol.protocol import Protocol as ClientProtocol
from science_mode_4.protocol.types import Channel, Connector

from stimwise.device.frames import DecodedFrame, FrameError
from stimwise.device.sciencemode4 import codec
from stimwise.device.sciencemode4 import payloads as pl
from stimwise.device.sciencemode4.codec import Command, Result
from stimwise.errors import InputError


def point(duration_us: int, current_ma: float) -> pl.ChannelPoint:
    return pl.ChannelPoint.from_ma(duration_us, current_ma)


def biphasic(current_ma: float, width_us: int = 250, gap_us: int = 100):
    return (point(width_us, current_ma), point(gap_us, 0), point(width_us, -current_ma))


def decode_one(frame: bytes) -> DecodedFrame:
    [item] = codec.FrameDecoder().feed(frame)
    assert isinstance(item, DecodedFrame), item
    return item


# --------------------------------------------------------------------------- framing


def test_crc16_is_xmodem():
    assert codec.crc16(b"123456789") == 0x31C3
    assert codec.crc16(b"") == 0


def test_a_packet_without_data_is_12_bytes_laid_out_as_the_manual_says():
    frame = codec.encode_frame(1, Command.ML_STOP)
    assert len(frame) == 12  # "When the command data size is 0 ... the packet length is 12"
    assert frame[0] == 0xF0 and frame[-1] == 0x0F
    assert frame[1:5] == bytes((0x81, 0x00 ^ 0x55, 0x81, 12 ^ 0x55))
    assert frame[9:11] == bytes((1 << 2, 34))  # packet number above the 10-bit command
    crc = codec.crc16(frame[9:11])
    assert frame[5:9] == bytes((0x81, (crc >> 8) ^ 0x55, 0x81, (crc & 0xFF) ^ 0x55))


def test_special_bytes_are_stuffed_and_the_length_counts_the_stuffed_packet():
    frame = codec.encode_frame(63, 0x3F0, bytes((0xF0, 0x0F, 0x81, 0x55)))
    payload = frame[9:-1]
    assert payload == bytes((0xFF, 0x81, 0xF0 ^ 0x55, 0x81, 0xA5, 0x81, 0x5A, 0x81, 0xD4, 0x55))
    assert len(frame) == 9 + len(payload) + 1
    item = decode_one(frame)
    assert (item.packet_number, item.command, item.data) == (63, 0x3F0, b"\xf0\x0f\x81\x55")


@given(
    number=st.integers(0, 63),
    command=st.integers(0, 1023),
    data=st.binary(max_size=200),
    junk=st.binary(max_size=20).filter(lambda b: 0xF0 not in b),
    cut=st.integers(1, 50),
)
def test_any_packet_survives_any_chunking_and_leading_junk(number, command, data, junk, cut):
    stream = junk + codec.encode_frame(number, command, data)
    decoder = codec.FrameDecoder()
    items = []
    for start in range(0, len(stream), cut):
        items += decoder.feed(stream[start : start + cut])
    assert [(i.packet_number, i.command, i.data) for i in items] == [(number, command, data)]


def test_broken_packets_are_reported_with_what_can_be_read():
    frame = bytearray(codec.encode_frame(7, Command.ML_UPDATE, b"\x01\x02"))
    frame[6] ^= 0x01  # checksum high byte
    [item] = codec.FrameDecoder().feed(bytes(frame))
    assert isinstance(item, FrameError)
    assert (item.reason, item.command, item.packet_number) == ("CRC mismatch", 32, 7)
    frame = bytearray(codec.encode_frame(7, Command.ML_UPDATE, b"\x01\x02"))
    frame[4] ^= 0x01  # length low byte
    [item] = codec.FrameDecoder().feed(bytes(frame))
    assert item.reason.startswith("length") and item.packet_number == 7
    [item] = codec.FrameDecoder().feed(b"\xf0\x81\x55\x0f")
    assert item.reason == "packet too short" and item.command is None
    assert codec.FrameDecoder().feed(b"\x00\x01junk\x0f") == []


def test_encode_refuses_what_does_not_fit():
    with pytest.raises(InputError) as refused:
        codec.encode_frame(64, 1024)
    assert [p.path for p in refused.value.problems] == ["packet_number", "command"]
    with pytest.raises(InputError, match="1200"):
        codec.encode_frame(0, Command.ML_UPDATE, bytes(1200))


def test_result_codes_outside_the_protocol_are_input_errors():
    assert Result.from_byte(10) == Result.ELECTRODE_ERROR
    with pytest.raises(InputError, match="result"):
        Result.from_byte(99)


# --------------------------------------------------------------------------- packet lengths


def frame_length(command: Command, payload) -> int:
    return len(codec.encode_frame(1, command, payload.encode()))


def test_packet_lengths_match_the_manuals_tables():
    ok = Result.SUCCESSFUL
    config = pl.MlChannelConfig.from_ms(25, biphasic(10))
    sixteen = tuple(point(100, 1) for _ in range(16))
    # ramp 1: with 16 points and no ramp the channel's first byte is F0, stuffed to 2 bytes
    full = pl.MlUpdate.of({c: pl.MlChannelConfig.from_ms(100, sixteen, 1) for c in range(8)})
    expected = {
        (Command.GET_DEVICE_ID_ACK, pl.GetDeviceIdAck(ok, "ABCDEFGHIJ")): 23,
        (Command.GET_STIM_STATUS_ACK, pl.GetStimStatusAck(ok, 3, 6)): 15,
        (
            Command.GET_EXTENDED_VERSION_ACK,
            pl.GetExtendedVersionAck(ok, (1, 2, 3), (4, 0, 0), 0x12345678, 1, True),
        ): 25,
        (Command.LL_INIT, pl.LlInit()): 13,
        (Command.LL_CHANNEL_CONFIG, pl.LlChannelConfig(True, 0, 0, (point(100, 1),))): 17,
        (Command.LL_CHANNEL_CONFIG, pl.LlChannelConfig(True, 0, 0, sixteen)): 77,
        # the table says 14 (the C library's minimum); its server writes 3 data bytes, as here,
        # and the science-mode-4 client reads all 3
        (Command.LL_CHANNEL_CONFIG_ACK, pl.LlChannelConfigAck(ok, 2, 1)): 15,
        (Command.ML_INIT, pl.MlInit(True)): 13,
        (Command.ML_UPDATE, pl.MlUpdate.of({})): 13,
        (Command.ML_UPDATE, full): 549,
        (Command.ML_UPDATE_ACK, pl.ResultAck(ok)): 13,
        (Command.ML_GET_CURRENT_DATA, pl.MlGetCurrentData()): 13,
        (
            Command.ML_GET_CURRENT_DATA_ACK,
            pl.MlGetCurrentDataAck(ok, (False,) * 8, (0,) * 8),
        ): 19,
        (Command.UNKNOWN_CMD, pl.ResultAck(Result.INVALID_CMD_ERROR)): 13,
    }
    assert {key: frame_length(*key) for key in expected} == expected
    assert len(pl.MlUpdate.of({0: config}).encode()) == 1 + 3 + 12


# --------------------------------------------------------------------------- payloads


def test_points_carry_half_milliamperes_and_refuse_finer_steps():
    assert point(250, -20.5).encode() == ((250 << 20) | (259 << 10)).to_bytes(4, "big")
    assert pl.ChannelPoint.decode(point(4095, 150).encode()) == point(4095, 150)
    assert point(250, 2).charge_uc == pytest.approx(0.5)
    with pytest.raises(InputError, match=r"multiple of 0\.5 mA"):
        point(250, 10.2)
    with pytest.raises(InputError) as refused:
        pl.ChannelPoint(5000, 700).encode()
    assert [p.path for p in refused.value.problems] == ["point.duration_us", "point.current_code"]


def test_periods_use_quarter_milliseconds_where_they_reach():
    assert pl.MlChannelConfig.from_ms(25, biphasic(5)).fine
    assert pl.MlChannelConfig.from_ms(14.3, biphasic(5)).period_ms == 14.25
    coarse = pl.MlChannelConfig.from_ms(10_000, biphasic(5))
    assert (coarse.fine, coarse.period_ms) == (False, 10_000)
    with pytest.raises(InputError, match="period"):
        pl.MlChannelConfig.from_ms(20_000, biphasic(5))


def test_an_update_round_trips_and_names_every_bad_field():
    update = pl.MlUpdate.of(
        {0: pl.MlChannelConfig.from_ms(25, biphasic(10), ramp=3),
         5: pl.MlChannelConfig.from_ms(1000, (point(300, -7.5),))}
    )
    assert pl.MlUpdate.decode(update.encode()) == update
    with pytest.raises(InputError):
        pl.MlUpdate.decode(update.encode()[:-1])
    with pytest.raises(InputError):
        pl.MlUpdate.decode(update.encode() + b"\x00")
    bad = pl.MlUpdate.of({9: pl.MlChannelConfig((), 0, ramp=16)})
    paths = [p.path for p in bad.problems()]
    assert paths == [
        "MlUpdate.channel",
        "MlUpdate.channels[9].period_code",
        "MlUpdate.channels[9].ramp",
        "MlUpdate.channels[9].points",
    ]


def test_current_data_packs_two_channel_states_per_byte_channel_1_low():
    ack = pl.MlGetCurrentDataAck(
        Result.ELECTRODE_ERROR, (True, False) * 4, (1, 0, 0, 2, 0, 0, 3, 0)
    )
    data = ack.encode()
    assert data == bytes((10, 4, 0b01010101, 0x01, 0x20, 0x00, 0x03))
    assert pl.MlGetCurrentDataAck.decode(data) == ack
    assert ack.channel_states[3] == pl.ChannelState.PULSE_TIMEOUT_ERROR
    with pytest.raises(InputError, match="selection"):
        pl.MlGetCurrentDataAck.decode(bytes((0, 2, 0)))


def test_low_level_outputs_number_connector_channel_as_the_mid_level_does():
    config = pl.LlChannelConfig(True, 3, 1, biphasic(8))
    assert config.output == 8
    assert pl.LlChannelConfig.decode(config.encode()) == config
    off = pl.LlChannelConfig(False, 0, 0, ())
    assert off.encode() == b"\x00" and pl.LlChannelConfig.decode(b"\x00") == off


# --------------------------------------------------------------------------- the other client


def client_frame(packet, number: int) -> bytes:
    packet.number = number
    return ClientProtocol.packet_to_bytes(packet)


def test_HAZ137_the_independent_client_builds_the_same_bytes():
    update = PacketMidLevelUpdate()
    update.channel_configuration = [
        MidLevelChannelConfiguration(True, 3, 20, [ClientPoint(200, 20), ClientPoint(100, 0),
                                                   ClientPoint(200, -20)]),
        None,
        MidLevelChannelConfiguration(True, 0, 25, [ClientPoint(300, -10.5)]),
    ]
    ours = pl.MlUpdate.of(
        {
            0: pl.MlChannelConfig(biphasic(20, 200), 40, False, 3),
            2: pl.MlChannelConfig((point(300, -10.5),), 50, False, 0),
        }
    )
    assert client_frame(update, 5) == codec.encode_frame(5, Command.ML_UPDATE, ours.encode())
    low = PacketLowLevelChannelConfig()
    low.execute_stimulation, low.channel, low.connector = True, Channel.WHITE, Connector.GREEN
    low.points = [ClientPoint(250, 8), ClientPoint(100, 0), ClientPoint(250, -8)]
    ours_low = pl.LlChannelConfig(True, 3, 1, biphasic(8))
    expected = codec.encode_frame(63, Command.LL_CHANNEL_CONFIG, ours_low.encode())
    assert client_frame(low, 63) == expected


def test_HAZ137_the_independent_client_reads_our_frames():
    ack = pl.MlGetCurrentDataAck(Result.SUCCESSFUL, (True,) + (False,) * 7, (0, 1) + (0,) * 6)
    frame = codec.encode_frame(42, Command.ML_GET_CURRENT_DATA_ACK, ack.encode())
    assert ClientProtocol.is_valid_packet_data(frame)
    command, number, data = ClientProtocol.extract_packet_data(frame)
    assert (command, number) == (Command.ML_GET_CURRENT_DATA_ACK, 42)
    theirs = PacketMidLevelGetCurrentDataAck(data)
    assert theirs.is_stimulation_active_per_channel[:2] == [True, False]
    assert theirs.channel_error[1].name == "ELECTRODE_ERROR"
