"""RehaMove P24 emulator: a raw codec client over the pty (levels, answers, validation, the
keep-alive rule, the pulse log, faults), the ``stimwise emulate p24`` command, and whole
sessions of the independent ``science-mode-4`` client in a subprocess with a hard timeout."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import pty_client
from stimwise.cli.emulate import run_p24_emulator_cli
from stimwise.device.frames import FrameError
from stimwise.device.sciencemode4 import codec
from stimwise.device.sciencemode4 import payloads as pl
from stimwise.device.sciencemode4.codec import Command, Result
from stimwise.device.sciencemode4.emulator import P24Emulator, P24EmulatorConfig
from stimwise.device.sciencemode4.payloads import ChannelState, StimStatus
from stimwise.errors import InputError

SM4_CLIENT = Path(__file__).with_name("sm4_p24_client.py")
SM4_TIMEOUT_S = 60


class RawClient(pty_client.RawClient):
    def __init__(self, port: str) -> None:
        super().__init__(
            port,
            encode=codec.encode_frame,
            decoder=codec.FrameDecoder(),
            ack_of=codec.ACK_OF,
            packet_modulo=codec.PACKET_NUMBERS,
        )

    def result(self, command: Command, payload: object | None = None) -> Result:
        data = b"" if payload is None else payload.encode()  # type: ignore[attr-defined]
        return pl.ResultAck.decode(self.request(command, data).data).result

    def status(self) -> StimStatus:
        ack = pl.GetStimStatusAck.decode(self.request(Command.GET_STIM_STATUS).data)
        return StimStatus(ack.status)

    def current_data(self) -> pl.MlGetCurrentDataAck:
        answer = self.request(Command.ML_GET_CURRENT_DATA, pl.MlGetCurrentData().encode())
        return pl.MlGetCurrentDataAck.decode(answer.data)

    def mid_level(self, channels: dict[int, pl.MlChannelConfig], stop_all: bool = True) -> float:
        """Ml_init, then one Ml_update; return when the update was answered."""
        assert self.result(Command.ML_INIT, pl.MlInit(stop_all)) == Result.SUCCESSFUL
        assert self.result(Command.ML_UPDATE, pl.MlUpdate.of(channels)) == Result.SUCCESSFUL
        return time.monotonic()


def point(duration_us: int, current_ma: float) -> pl.ChannelPoint:
    return pl.ChannelPoint.from_ma(duration_us, current_ma)


def biphasic(current_ma: float, width_us: int = 250) -> tuple[pl.ChannelPoint, ...]:
    return (point(width_us, current_ma), point(100, 0), point(width_us, -current_ma))


def channel(current_ma: float, period_ms: float = 25, ramp: int = 0) -> pl.MlChannelConfig:
    return pl.MlChannelConfig.from_ms(period_ms, biphasic(current_ma), ramp)


@pytest.fixture
def make() -> Iterator:
    """``make(**config) -> (emulator, raw client)``; everything is closed afterwards."""
    opened: list = []

    def build(**config) -> tuple[P24Emulator, RawClient]:
        emulator = P24Emulator(P24EmulatorConfig(**({"ack_latency_ms": 1.0} | config))).start()
        client = RawClient(emulator.port)
        opened.append((emulator, client))
        return emulator, client

    yield build
    for emulator, client in opened:
        client.close()
        emulator.close()


# --------------------------------------------------------------------------- general layer


def test_the_general_layer_answers_identity_versions_and_status(make):
    emulator, client = make(device_id="P24TEST123")
    ack = pl.GetDeviceIdAck.decode(client.request(Command.GET_DEVICE_ID).data)
    assert (ack.result, ack.device_id) == (Result.SUCCESSFUL, "P24TEST123")
    version = pl.GetExtendedVersionAck.decode(client.request(Command.GET_EXTENDED_VERSION).data)
    assert version.science_mode == (4, 0, 0)
    status = pl.GetStimStatusAck.decode(client.request(Command.GET_STIM_STATUS).data)
    assert (status.status, status.high_voltage) == (StimStatus.NO_LEVEL, pl.HighVoltage.OFF)
    assert any("3000000 baud" in e.message for e in emulator.events("warning"))


def test_unknown_commands_and_broken_frames_are_answered_with_their_number(make):
    _, client = make()
    client.packet_number = 9
    client.send(500)
    answer = client.wait_for(Command.UNKNOWN_CMD)
    assert answer.packet_number == 9
    assert pl.ResultAck.decode(answer.data).result == Result.INVALID_CMD_ERROR
    frame = bytearray(codec.encode_frame(33, Command.ML_INIT, b"\x01"))
    frame[6] ^= 0x01
    os.write(client.fd, bytes(frame))
    answer = client.wait_for(Command.GENERAL_ERROR)
    assert answer.packet_number == 33
    assert pl.ResultAck.decode(answer.data).result == Result.TRANSFER_ERROR


# --------------------------------------------------------------------------- levels


def test_one_level_at_a_time_and_commands_outside_their_level_get_7(make):
    emulator, client = make()
    assert client.result(Command.ML_UPDATE, pl.MlUpdate.of({0: channel(5)})) == (
        Result.NOT_INITIALIZED
    )
    assert client.current_data().result == Result.NOT_INITIALIZED
    assert client.result(Command.LL_INIT, pl.LlInit()) == Result.SUCCESSFUL
    assert client.status() == StimStatus.LOW_LEVEL_INITIALIZED
    assert client.result(Command.ML_INIT, pl.MlInit(True)) == Result.NOT_INITIALIZED
    assert client.result(Command.ML_STOP) == Result.NOT_INITIALIZED
    assert client.result(Command.LL_STOP) == Result.SUCCESSFUL
    assert client.result(Command.LL_STOP) == Result.SUCCESSFUL  # a repeated stop is harmless
    client.mid_level({0: channel(5)})
    assert emulator.stim_status == StimStatus.MID_LEVEL_RUNNING
    ack = pl.LlChannelConfigAck.decode(
        client.request(Command.LL_CHANNEL_CONFIG, pl.LlChannelConfig(True, 1, 0,
                                                                     biphasic(5)).encode()).data
    )
    assert (ack.result, ack.channel) == (Result.NOT_INITIALIZED, 1)
    assert client.result(Command.ML_UPDATE, pl.MlUpdate.of({})) == Result.SUCCESSFUL
    assert client.status() == StimStatus.MID_LEVEL_INITIALIZED  # no channel on: not running
    assert client.result(Command.ML_STOP) == Result.SUCCESSFUL
    assert client.result(Command.ML_STOP) == Result.SUCCESSFUL
    assert client.status() == StimStatus.NO_LEVEL


@pytest.mark.parametrize(
    ("update", "problem"),
    [
        (pl.MlUpdate.of({0: pl.MlChannelConfig(biphasic(131), 50)}), "130 mA"),
        (pl.MlUpdate.of({0: pl.MlChannelConfig(biphasic(10, 4000), 16)}), "per second"),
        (
            pl.MlUpdate.of({c: pl.MlChannelConfig(biphasic(10, 400), 8) for c in range(8)}),
            "per second",
        ),
    ],
)
def test_what_the_device_cannot_run_is_refused_with_2(make, update, problem):
    emulator, client = make()
    assert client.result(Command.ML_INIT, pl.MlInit(True)) == Result.SUCCESSFUL
    assert client.result(Command.ML_UPDATE, update) == Result.PARAMETER_ERROR
    assert any(problem in e.message for e in emulator.events("warning"))
    assert client.status() == StimStatus.MID_LEVEL_INITIALIZED
    answer = client.request(Command.ML_UPDATE, b"\x01\x00")  # channel 1 on, config cut short
    assert pl.ResultAck.decode(answer.data).result == Result.PARAMETER_ERROR


# --------------------------------------------------------------------------- the pulse log


def test_channels_fire_their_shapes_at_their_own_periods(make):
    emulator, client = make()
    started_s = client.mid_level({0: channel(20, 25), 4: channel(7.5, 40)})
    time.sleep(0.5)
    pulses = emulator.pulse_log(since_s=started_s - 0.05)
    first = [p for p in pulses if p.channel == 1]
    fifth = [p for p in pulses if p.channel == 5]
    assert {p.shape for p in first} == {((250, 20.0), (100, 0.0), (250, -20.0))}
    assert {p.peak_current_ma for p in fifth} == {7.5}
    assert {round(b.t_s - a.t_s, 9) for a, b in itertools.pairwise(first)} == {0.025}
    assert {round(b.t_s - a.t_s, 9) for a, b in itertools.pairwise(fifth)} == {0.04}
    assert len(first) in (20, 21) and first[0].charge_uc == pytest.approx(10.0)


def test_an_update_takes_effect_at_the_channels_next_pulse_and_switching_off_cuts(make):
    emulator, client = make()
    client.mid_level({0: channel(10), 1: channel(10)})
    time.sleep(0.06)
    sent_s = time.monotonic()
    assert client.result(Command.ML_UPDATE, pl.MlUpdate.of({0: channel(30)})) == (
        Result.SUCCESSFUL
    )
    acked_s = time.monotonic()
    time.sleep(0.1)
    before = emulator.pulse_log(until_s=sent_s)
    after = emulator.pulse_log(since_s=acked_s + 0.025)
    assert {p.peak_current_ma for p in before if p.channel == 1} == {10.0}
    assert {(p.channel, p.peak_current_ma) for p in after} == {(1, 30.0)}  # channel 2 is off
    ones = [p.t_s for p in emulator.pulse_log() if p.channel == 1]
    assert {round(b - a, 9) for a, b in itertools.pairwise(ones)} == {0.025}  # no phase jump


def test_the_ramp_rises_linearly_to_the_set_current(make):
    emulator, client = make()
    client.mid_level({0: channel(20, 10, ramp=3)})
    time.sleep(0.1)
    peaks = [p.peak_current_ma for p in emulator.pulse_log()[:6]]
    assert peaks == [5.0, 10.0, 15.0, 20.0, 20.0, 20.0]


def test_stop_leaves_no_pulse_after_its_answer(make):
    emulator, client = make()
    client.mid_level({0: channel(10, 10), 7: channel(10, 10)})
    time.sleep(0.1)
    assert client.result(Command.ML_STOP) == Result.SUCCESSFUL
    acked_s = time.monotonic()
    time.sleep(0.05)
    assert emulator.pulse_log(since_s=acked_s) == []


def test_low_level_pulses_run_one_after_another_and_are_answered_when_done(make):
    emulator, client = make()
    assert client.result(Command.LL_INIT, pl.LlInit()) == Result.SUCCESSFUL
    long_pulse = (point(4000, 5), point(4000, -5))
    numbers = [
        client.send(Command.LL_CHANNEL_CONFIG, pl.LlChannelConfig(True, c, 1, long_pulse).encode())
        for c in range(3)
    ]
    sent_s = time.monotonic()
    answers = [client.wait_for(Command.LL_CHANNEL_CONFIG_ACK) for _ in numbers]
    assert [a.packet_number for a in answers] == numbers
    assert time.monotonic() - sent_s >= 0.024  # the third pulse ends 3 × 8 ms later
    pulses = emulator.pulse_log()
    assert [p.channel for p in pulses] == [5, 6, 7]
    assert [round(b.t_s - a.t_s, 9) for a, b in itertools.pairwise(pulses)] == [0.008, 0.008]
    assert all(p.source == "low_level" for p in pulses)


def test_pulse_log_file_matches_the_api(tmp_path):
    path = tmp_path / "pulses.jsonl"
    emulator = P24Emulator(P24EmulatorConfig(ack_latency_ms=1, pulse_log_path=path)).start()
    client = RawClient(emulator.port)
    try:
        client.mid_level({2: channel(12, 20)})
        time.sleep(0.25)
        client.request(Command.ML_STOP)
    finally:
        client.close()
        emulator.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [p.to_json() for p in emulator.pulse_log()]
    assert len(lines) >= 10 and lines[0]["channel"] == 3 and lines[0]["charge_uc"] == 6.0


# --------------------------------------------------------------------------- keep-alive


def test_stimulation_stops_when_the_keepalive_lapses_and_restarts_with_an_update(make):
    emulator, client = make(keepalive_timeout_ms=300)
    client.mid_level({0: channel(10, 20)})
    for _ in range(3):  # Ml_get_current_data keeps it going
        time.sleep(0.2)
        assert client.current_data().active[0]
    time.sleep(0.45)
    lapsed = next(e for e in emulator.events("state") if e.message.startswith("keep-alive"))
    last_keepalive = [e for e in emulator.events("rx") if e.t_s < lapsed.t_s][-1]
    assert last_keepalive.detail["command"] == Command.ML_GET_CURRENT_DATA
    assert 0.3 <= lapsed.t_s - last_keepalive.t_s <= 0.35
    assert emulator.pulse_log(since_s=lapsed.t_s) == []
    data = client.current_data()
    assert (data.result, data.active[0]) == (Result.SUCCESSFUL, False)
    assert client.status() == StimStatus.MID_LEVEL_INITIALIZED
    assert client.result(Command.ML_UPDATE, pl.MlUpdate.of({0: channel(10, 20)})) == (
        Result.SUCCESSFUL
    )
    assert client.status() == StimStatus.MID_LEVEL_RUNNING


# --------------------------------------------------------------------------- device faults


@pytest.mark.parametrize("stop_all", [True, False])
def test_an_electrode_error_stops_its_channel_or_all_and_is_reported(make, stop_all):
    emulator, client = make()
    client.mid_level({0: channel(10, 10), 1: channel(10, 10)}, stop_all=stop_all)
    time.sleep(0.05)
    emulator.inject_electrode_error(2)
    injected_s = time.monotonic()
    data = client.current_data()
    assert data.result == Result.ELECTRODE_ERROR
    assert data.channel_states[:2] == (ChannelState.OK, ChannelState.ELECTRODE_ERROR)
    assert data.active[:2] == ((False, False) if stop_all else (True, False))
    time.sleep(0.05)
    assert {p.channel for p in emulator.pulse_log(since_s=injected_s)} == (
        set() if stop_all else {1}
    )
    with pytest.raises(InputError, match="channel"):
        emulator.inject_electrode_error(9)


def test_a_low_level_pulse_on_a_failed_electrode_is_answered_10(make):
    emulator, client = make()
    client.result(Command.LL_INIT, pl.LlInit())
    emulator.inject_electrode_error(5)
    ack = pl.LlChannelConfigAck.decode(
        client.request(
            Command.LL_CHANNEL_CONFIG, pl.LlChannelConfig(True, 0, 1, biphasic(8)).encode()
        ).data
    )
    assert (ack.result, ack.connector, ack.channel) == (Result.ELECTRODE_ERROR, 1, 0)
    assert emulator.pulse_log() == []


def test_a_reset_stops_everything_and_forgets_the_level(make):
    emulator, client = make()
    client.mid_level({0: channel(10, 10)})
    emulator.inject_reset()
    reset_s = time.monotonic()
    assert client.current_data().result == Result.NOT_INITIALIZED
    assert client.status() == StimStatus.NO_LEVEL
    assert emulator.pulse_log(since_s=reset_s) == []


def test_link_faults_of_the_shared_plumbing_apply(make):
    emulator, client = make()
    emulator.corrupt_next_frame()
    client.send(Command.GET_STIM_STATUS)
    item = client.receive()
    assert isinstance(item, FrameError) and item.reason == "CRC mismatch"
    emulator.drop_frames(1, "tx")
    client.send(Command.GET_STIM_STATUS)
    assert client.receive(timeout_s=0.1) is None
    emulator.set_hung(True)
    client.send(Command.GET_STIM_STATUS)
    assert client.receive(timeout_s=0.1) is None
    emulator.set_hung(False)
    assert client.status() == StimStatus.NO_LEVEL


def test_bad_configuration_names_the_field():
    with pytest.raises(InputError) as raised:
        P24EmulatorConfig(keepalive_timeout_ms=0, device_id="short", ack_latency_ms=-1)
    paths = [p.path for p in raised.value.problems]
    assert paths == ["keepalive_timeout_ms", "device_id", "ack_latency_ms"]


# --------------------------------------------------------------------------- CLI


def test_emulate_p24_publishes_a_link_and_stops_cleanly(tmp_path):
    link = tmp_path / "p24"
    with pty_client.emulator_cli(run_p24_emulator_cli, link) as out:
        client = RawClient(str(link))
        client.mid_level({0: channel(5)})
        client.close()
    text = out.getvalue()
    assert "RehaMove P24 emulator on /dev/pts/" in text and str(link) in text
    assert "[state] mid level initialised" in text


def test_HAZ137_science_mode_4_runs_on_stimwise_emulate_p24_which_ends_on_sigterm(tmp_path):
    link = tmp_path / "p24"
    command = [sys.executable, "-m", "stimwise", "emulate", "p24", "--link", str(link)]
    results: list[dict] = []

    def low_level_session() -> None:
        client = pty_client.ClientProcess(
            SM4_CLIENT, str(link), "low", "--pulses", "6", timeout_s=SM4_TIMEOUT_S
        )
        results.append(client.result())

    first_line = pty_client.first_line_then_sigterm(command, link, low_level_session)
    assert first_line.startswith("RehaMove P24 emulator on /dev/pts/")
    [result] = results
    assert result["raised"] is None, result
    assert [ack[2] for ack in result["acks"]] == ["NO_ERROR"] * 6


# --------------------------------------------------------------------------- science-mode-4


def sm4_emulator() -> P24Emulator:
    return P24Emulator(P24EmulatorConfig(ack_latency_ms=1.0)).start()


@pytest.mark.slow
def test_HAZ137_the_science_mode_4_client_runs_a_whole_mid_level_session():
    emulator = sm4_emulator()
    updates = 300
    try:
        process = pty_client.ClientProcess(
            SM4_CLIENT, emulator.port, "mid", "--updates", str(updates), timeout_s=SM4_TIMEOUT_S
        )
        result = process.result()
    finally:
        emulator.close()
    assert result["raised"] is None, result
    assert (result["device_id"], result["science_mode_version"]) == ("P24EMUL001", "4.0.0")
    assert result["status_before"] == result["status_after"] == "NO_LEVEL_INITIALIZED"
    assert result["active_after_start"][:3] == result["active_at_end"][:3] == [True, False, True]
    assert set(result["errors_at_end"]) == {"NO_ERROR"}
    received = emulator.received()
    assert received.count(Command.ML_UPDATE) == updates + 1
    assert received.count(Command.ML_GET_CURRENT_DATA) >= updates // 10 + 4
    assert received[-2:] == [Command.ML_STOP, Command.GET_STIM_STATUS]
    numbers = [e.detail["packet_number"] for e in emulator.events("rx")]
    assert set(numbers) == set(range(64))  # the 6-bit numbers wrapped several times
    assert not emulator.events("error")
    assert not [e for e in emulator.events("state") if "keep-alive" in e.message]

    def pulses(number: int, since_s: float, until_s: float) -> list:
        return [p for p in emulator.pulse_log(since_s, until_s) if p.channel == number]

    running = pulses(1, result["t_started"] + 0.05, result["t_last_update"])
    assert {round(b.t_s - a.t_s, 6) for a, b in itertools.pairwise(running)} == {0.025}
    held = (result["t_last_update"] + 0.03, result["t_held"])
    last = result["last_red_ma"]
    assert {p.shape for p in pulses(1, *held)} == {((250, last), (100, 0.0), (250, -last))}
    assert {p.peak_current_ma for p in pulses(3, *held)} == {5.0}
    assert len(pulses(1, *held)) == pytest.approx((held[1] - held[0]) / 0.025, abs=2)
    assert emulator.pulse_log(since_s=result["t_stopped"]) == []
    assert emulator.stim_status == StimStatus.NO_LEVEL


@pytest.mark.slow
def test_HAZ137_the_science_mode_4_client_runs_a_whole_low_level_session():
    emulator = sm4_emulator()
    count = 40
    try:
        process = pty_client.ClientProcess(
            SM4_CLIENT, emulator.port, "low", "--pulses", str(count), timeout_s=SM4_TIMEOUT_S
        )
        result = process.result()
    finally:
        emulator.close()
    assert result["raised"] is None, result
    assert result["acks"] == [[i % 2, 1, "NO_ERROR"] for i in range(count)]
    pulses = emulator.pulse_log()
    assert [p.channel for p in pulses] == [2 if i % 2 == 0 else 6 for i in range(count)]
    assert [p.peak_current_ma for p in pulses] == [8 + i % 4 for i in range(count)]
    assert all(p.charge_uc == pytest.approx(2 * p.peak_current_ma * 0.25) for p in pulses)
    assert result["status_after"] == "NO_LEVEL_INITIALIZED"
    assert not emulator.events("error")
