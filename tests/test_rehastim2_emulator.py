"""RehaStim 2 emulator: a raw codec client over the pty, the pulse log, faults, and real
pyScienceMode sessions (in a subprocess with a hard timeout, since pSM has none)."""

from __future__ import annotations

import itertools
import json
import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import pty_client
from stimwise.cli.emulate import run_emulator_cli
from stimwise.device.sciencemode2 import codec
from stimwise.device.sciencemode2 import payloads as pl
from stimwise.device.sciencemode2.codec import Command, Result
from stimwise.device.sciencemode2.emulator import EmulatorConfig, RehaStim2Emulator
from stimwise.device.sciencemode2.pulses import ListSettings, PulseTimeline
from stimwise.errors import InputError

PSM_CLIENT = Path(__file__).with_name("psm_rehastim2_client.py")
PSM_TIMEOUT_S = 60


class RawClient(pty_client.RawClient):
    """The smallest possible host: our codec over the pty slave, with timeouts everywhere."""

    def __init__(self, port: str) -> None:
        super().__init__(
            port,
            encode=codec.encode_frame,
            decoder=codec.FrameDecoder(),
            ack_of=codec.ACK_OF,
            packet_modulo=256,
        )

    def result(self, command: Command, data: bytes = b"") -> Result:
        return pl.Ack.decode(self.request(command, data).data).result

    def connect(self) -> None:
        """Handshake, then one round trip so the emulator has surely processed the InitAck."""
        self.wait_for(Command.INIT)
        self.send(Command.INIT_ACK, pl.Ack(Result.OK).encode())
        assert self.mode() == pl.StimulationMode.START

    def mode(self) -> pl.StimulationMode | None:
        return pl.StimulationModeAck.decode(self.request(Command.GET_STIMULATION_MODE).data).mode

    def start_list(
        self, *entries: tuple[int, pl.ChannelSettings], t1_ms: float | None = 40, t2_ms: float = 8
    ) -> float:
        """Init and start a channel list; return when the Start was acknowledged."""
        init = pl.InitChannelListMode.from_ms(
            t1_ms=t1_ms, t2_ms=t2_ms, channels=[c for c, _ in entries]
        )
        assert self.result(Command.INIT_CHANNEL_LIST_MODE, init.encode()) == Result.OK
        start = pl.StartChannelListMode(tuple(e for _, e in entries))
        assert self.result(Command.START_CHANNEL_LIST_MODE, start.encode()) == Result.OK
        return time.monotonic()


@pytest.fixture
def make() -> Iterator:
    """``make(**config) -> (emulator, connected raw client)``; everything is closed afterwards."""
    opened: list = []

    def build(connect: bool = True, **config) -> tuple[RehaStim2Emulator, RawClient]:
        emulator = RehaStim2Emulator(EmulatorConfig(**({"ack_latency_ms": 1.0} | config))).start()
        client = RawClient(emulator.port)
        opened.append((emulator, client))
        if connect:
            client.connect()
        return emulator, client

    yield build
    for emulator, client in opened:
        client.close()
        emulator.close()


def single(current_ma: int, width_us: int = 300, mode: int = 0) -> pl.ChannelSettings:
    return pl.ChannelSettings(mode, width_us, current_ma)


# --------------------------------------------------------------------------- connection


@pytest.mark.slow
def test_init_repeats_every_500_ms_until_init_ack_0(make):
    emulator, client = make(connect=False)
    first = client.wait_for(Command.INIT)
    second = client.wait_for(Command.INIT, timeout_s=0.7)
    assert pl.Init.decode(first.data).version == 1
    assert second.packet_number == first.packet_number + 1  # the device's own counter
    client.send(Command.INIT_ACK, pl.Ack(Result.VERSION_ERROR).encode())
    client.wait_for(Command.INIT, timeout_s=0.7)  # −5 keeps Init going
    client.send(Command.INIT_ACK, pl.Ack(Result.OK).encode())
    assert client.receive(timeout_s=0.7) is None
    assert emulator.connected
    times = [e.t_s for e in emulator.events("tx") if e.detail["command"] == Command.INIT]
    assert [round(b - a, 1) for a, b in itertools.pairwise(times)] == [0.5, 0.5]


def test_everything_but_init_ack_is_ignored_before_the_handshake(make):
    emulator, client = make(connect=False, init_interval_ms=5000)
    client.wait_for(Command.INIT)
    client.send(Command.WATCHDOG)
    os.write(client.fd, b"\x00junk\x0f")
    client.send(Command.GET_STIMULATION_MODE)
    assert client.receive(timeout_s=0.2) is None
    assert not emulator.connected
    client.send(Command.INIT_ACK, pl.Ack(Result.OK).encode())
    assert client.mode() == pl.StimulationMode.START


def test_a_raw_client_that_sets_no_baud_rate_gets_a_warning(make):
    emulator, client = make()
    client.mode()
    assert any("460800" in e.message for e in emulator.events("warning"))


# --------------------------------------------------------------------------- modes and answers


def test_modes_follow_the_spec_and_wrong_mode_commands_get_minus_3(make):
    _, client = make()
    init = pl.InitChannelListMode.from_ms(t1_ms=40, channels=[1]).encode()
    start = pl.StartChannelListMode((single(10),)).encode()
    pulse = pl.SinglePulse(0, 200, 20).encode()
    assert client.mode() == pl.StimulationMode.START
    assert client.result(Command.START_CHANNEL_LIST_MODE, start) == Result.WRONG_MODE
    assert client.result(Command.SINGLE_PULSE, pulse) == Result.OK
    assert client.result(Command.INIT_CHANNEL_LIST_MODE, init) == Result.OK
    assert client.mode() == pl.StimulationMode.INITIALISED
    assert client.result(Command.SINGLE_PULSE, pulse) == Result.WRONG_MODE
    assert client.result(Command.INIT_CHANNEL_LIST_MODE, init) == Result.WRONG_MODE
    assert client.result(Command.START_CHANNEL_LIST_MODE, start) == Result.OK
    assert client.mode() == pl.StimulationMode.STARTED
    assert client.result(Command.START_CHANNEL_LIST_MODE, start) == Result.OK  # an update
    assert client.result(Command.STOP_CHANNEL_LIST_MODE) == Result.OK
    assert client.mode() == pl.StimulationMode.START
    assert client.result(Command.STOP_CHANNEL_LIST_MODE) == Result.OK  # valid in any mode
    assert client.result(Command.START_CHANNEL_LIST_MODE, start) == Result.WRONG_MODE


def test_unknown_and_motomed_commands(make):
    emulator, client = make()
    for command in (0x5F, 200, Command.INIT):
        number = client.send(command)
        answer = client.wait_for(Command.UNKNOWN_COMMAND)
        assert answer.packet_number == number
        assert pl.UnknownCommand.decode(answer.data).command == command
    assert any("mis-stuffed" in e.message for e in emulator.events("warning"))
    client.send(52)  # MOTOmed StartPhase
    assert pl.Ack.decode(client.wait_for(53).data).result == Result.NO_MOTOMED
    assert client.request(Command.GET_MOTOMED_MODE).data == b"\xff"  # -1: no MOTOmed


def test_special_packet_numbers_are_echoed(make):
    _, client = make()
    for number in (10, 15, 0x81, 0xF0):
        client.packet_number = number
        assert client.request(Command.GET_STIMULATION_MODE).packet_number == number


def test_a_bad_crc_gets_the_commands_ack_with_minus_1(make):
    _, client = make()
    frame = bytearray(codec.encode_frame(42, Command.INIT_CHANNEL_LIST_MODE, bytes(7)))
    frame[2] ^= 0x10
    os.write(client.fd, bytes(frame))
    answer = client.wait_for(Command.INIT_CHANNEL_LIST_MODE_ACK)
    assert answer.packet_number == 42
    assert pl.Ack.decode(answer.data).result == Result.TRANSFER_ERROR
    watchdog = bytearray(codec.encode_frame(43, Command.WATCHDOG))
    watchdog[2] ^= 0x10
    os.write(client.fd, bytes(watchdog))
    assert client.receive(timeout_s=0.1) is None


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("policy", ["strict", "lenient"])
def test_pyscience_mode_default_t2_is_rejected_or_clamped(make, policy):
    emulator, client = make(policy=policy)
    init = pl.InitChannelListMode.from_ms(t1_ms=40, t2_ms=2, channels=[1, 3])
    result = client.result(Command.INIT_CHANNEL_LIST_MODE, init.encode())
    if policy == "strict":
        assert result == Result.PARAMETER_ERROR
        return
    assert result == Result.OK
    assert any("t2_ms: got 2.0" in e.message for e in emulator.events("warning"))
    start = pl.StartChannelListMode((single(10, mode=1), single(10)))
    client.request(Command.START_CHANNEL_LIST_MODE, start.encode())
    time.sleep(0.1)
    ch1 = [p.t_s for p in emulator.pulse_log() if p.channel == 1][:2]
    assert ch1[1] - ch1[0] == pytest.approx(0.008)  # the doublet is spaced by the 8 ms floor


@pytest.mark.parametrize("policy", ["strict", "lenient"])
def test_out_of_range_channel_settings(make, policy):
    emulator, client = make(policy=policy)
    init = pl.InitChannelListMode.from_ms(t1_ms=40, channels=[2])
    client.request(Command.INIT_CHANNEL_LIST_MODE, init.encode())
    bad = bytes((3, 0, 10, 150))  # pSM's "no mode" 3, 10 µs, 150 mA: encode() would refuse
    result = client.result(Command.START_CHANNEL_LIST_MODE, bad)
    if policy == "strict":
        assert result == Result.PARAMETER_ERROR
        assert client.mode() == pl.StimulationMode.INITIALISED
        return
    assert result == Result.OK
    time.sleep(0.05)
    pulse = emulator.pulse_log()[0]
    assert (pulse.current_ma, pulse.pulse_width_us, pulse.group) == (130, 20, "single")


@pytest.mark.parametrize("policy", ["strict", "lenient"])
def test_structural_faults_are_rejected_under_both_policies(make, policy):
    _, client = make(policy=policy)
    init = pl.InitChannelListMode.from_ms(t1_ms=40, channels=[1, 2])
    assert (
        client.result(Command.INIT_CHANNEL_LIST_MODE, init.encode()[:6]) == Result.PARAMETER_ERROR
    )
    no_channel = bytes((0, 0, 0, 13, 0, 78, 0))
    assert client.result(Command.INIT_CHANNEL_LIST_MODE, no_channel) == Result.PARAMETER_ERROR
    client.request(Command.INIT_CHANNEL_LIST_MODE, init.encode())
    one_entry = pl.StartChannelListMode((single(10),)).encode()  # 4 bytes for 2 active channels
    assert client.result(Command.START_CHANNEL_LIST_MODE, one_entry) == Result.PARAMETER_ERROR


@pytest.mark.parametrize("policy", ["strict", "lenient"])
def test_t1_must_hold_every_pulse_of_a_group(make, policy):
    emulator, client = make(policy=policy)
    init = pl.InitChannelListMode.from_ms(t1_ms=10, t2_ms=8, channels=[4])
    client.request(Command.INIT_CHANNEL_LIST_MODE, init.encode())
    triplet = pl.StartChannelListMode((single(10, mode=2),)).encode()
    result = client.result(Command.START_CHANNEL_LIST_MODE, triplet)
    assert result == (Result.PARAMETER_ERROR if policy == "strict" else Result.OK)
    if policy == "lenient":
        time.sleep(0.06)
        firsts = [p.t_s for p in emulator.pulse_log() if p.index_in_group == 0]
        assert firsts[1] - firsts[0] == pytest.approx(0.024)  # t1 raised to 3 × t2


# --------------------------------------------------------------------------- watchdog


def test_watchdog_enforce_stops_resets_and_resumes_init(make):
    emulator, client = make(watchdog_timeout_ms=300, init_interval_ms=100)
    started_s = client.start_list((1, single(20)))
    client.wait_for(Command.INIT, timeout_s=1.0)
    assert not emulator.connected
    pulses = emulator.pulse_log()
    assert pulses and pulses[-1].t_s < started_s + 0.3
    client.send(Command.INIT_ACK, pl.Ack(Result.OK).encode())
    assert client.mode() == pl.StimulationMode.START


def test_watchdog_warn_only_records_the_gap(make):
    emulator, client = make(watchdog_timeout_ms=200, watchdog_policy="warn")
    started_s = client.start_list((1, single(20)))
    time.sleep(0.35)
    assert client.mode() == pl.StimulationMode.STARTED
    assert emulator.pulse_log(since_s=started_s + 0.3)
    messages = [e.message for e in emulator.events("warning")]
    assert any(m.startswith("watchdog: no valid packet") for m in messages)
    assert any(m.startswith("watchdog gap") for m in messages)


# --------------------------------------------------------------------------- pulse log


def test_pulse_log_shows_ch1_20_ma_singles_at_25_hz(make):
    emulator, client = make()
    started_s = client.start_list((1, single(20)), t1_ms=40)
    time.sleep(0.5)
    pulses = emulator.pulse_log(since_s=started_s - 0.05)
    assert len(pulses) in (12, 13, 14)
    assert {(p.channel, p.current_ma, p.pulse_width_us, p.group) for p in pulses} == {
        (1, 20, 300, "single")
    }
    gaps = {round(b.t_s - a.t_s, 9) for a, b in itertools.pairwise(pulses)}
    assert gaps == {0.04}


def test_an_update_is_reflected_within_one_period(make):
    emulator, client = make()
    client.start_list((1, single(20)), t1_ms=40)
    time.sleep(0.1)
    sent_s = time.monotonic()
    client.request(Command.START_CHANNEL_LIST_MODE, pl.StartChannelListMode((single(30),)).encode())
    acked_s = time.monotonic()
    time.sleep(0.15)
    assert {p.current_ma for p in emulator.pulse_log(until_s=sent_s)} == {20}
    assert {p.current_ma for p in emulator.pulse_log(since_s=acked_s + 0.04)} == {30}


def test_stop_leaves_no_pulse_after_its_ack(make):
    emulator, client = make()
    client.start_list((1, single(20)), (5, single(15, mode=1)), t1_ms=20)
    time.sleep(0.2)
    sent_s = time.monotonic()
    assert client.result(Command.STOP_CHANNEL_LIST_MODE) == Result.OK
    acked_s = time.monotonic()
    time.sleep(0.1)
    assert emulator.pulse_log(since_s=acked_s) == []
    assert emulator.pulse_log()[-1].t_s > sent_s - 0.02  # it ran until the stop


def test_single_pulses_are_logged_when_processed(make):
    emulator, client = make()
    sent_s = time.monotonic()
    client.request(Command.SINGLE_PULSE, pl.SinglePulse(7, 5, 12).encode())
    [pulse] = emulator.pulse_log()
    assert (pulse.channel, pulse.pulse_width_us, pulse.source) == (8, 20, "single_pulse")
    assert sent_s <= pulse.t_s <= time.monotonic()


def test_pulse_log_file_matches_the_api(tmp_path):
    path = tmp_path / "pulses.jsonl"
    emulator = RehaStim2Emulator(EmulatorConfig(ack_latency_ms=1, pulse_log_path=path)).start()
    client = RawClient(emulator.port)
    try:
        client.connect()
        client.start_list((2, single(25)), t1_ms=20)
        time.sleep(0.25)
        client.request(Command.STOP_CHANNEL_LIST_MODE)
    finally:
        client.close()
        emulator.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == [p.to_json() for p in emulator.pulse_log()]
    assert len(lines) >= 10 and lines[0]["channel"] == 2


def settings(**overrides) -> ListSettings:
    base = {
        "period_s": 0.05,
        "t2_s": 0.008,
        "low_frequency_factor": 2,
        "low_frequency_channels": frozenset({5}),
        "channels": {1: single(10), 3: single(20, mode=1), 5: single(30, mode=2)},
    }
    return ListSettings(**(base | overrides))


def test_slots_doublets_triplets_and_low_frequency_skips():
    timeline = PulseTimeline()
    timeline.apply(settings(), now_s=100.0)
    pulses = timeline.pulses(100.0, 100.0 + 0.05 * 6)
    first_period = [(round((p.t_s - 100) * 1000, 6), p.channel, p.group) for p in pulses[:6]]
    assert first_period == [
        (0.0, 1, "single"),
        (1.5, 3, "doublet"),
        (3.0, 5, "triplet"),
        (9.5, 3, "doublet"),
        (11.0, 5, "triplet"),
        (19.0, 5, "triplet"),
    ]
    ch5_periods = sorted({round((p.t_s - 100) / 0.05) for p in pulses if p.channel == 5})
    assert ch5_periods == [0, 3]  # low-frequency factor 2: every third period


def test_updates_start_at_the_next_period_and_one_shot_runs_once():
    timeline = PulseTimeline()
    timeline.apply(settings(low_frequency_channels=frozenset()), now_s=0.0)
    timeline.apply(settings(channels={1: single(99)}), now_s=0.12)
    updated = next(p.t_s for p in timeline.pulses(0.12, 0.3) if p.current_ma == 99)
    assert updated == pytest.approx(0.15)
    timeline.stop(0.2)
    assert timeline.pulses(0.2, 1.0) == []
    timeline.apply(settings(period_s=None, channels={2: single(5, mode=1)}), now_s=2.0)
    assert [round(p.t_s, 6) for p in timeline.pulses(0, 10)[-2:]] == [2.0, 2.008]


# --------------------------------------------------------------------------- fault injection


@pytest.mark.parametrize(
    ("inject", "code"),
    [
        (lambda e: e.inject_electrode_error(3), pl.StimulationErrorCode.ELECTRODE),
        (lambda e: e.inject_emergency_switch(), pl.StimulationErrorCode.EMERGENCY_SWITCH),
        (lambda e: e.inject_module_error(), pl.StimulationErrorCode.MODULE),
    ],
)
def test_stimulation_errors_stop_and_reset_to_start_mode(make, inject, code):
    emulator, client = make()
    client.start_list((3, single(20)))
    time.sleep(0.05)
    inject(emulator)
    injected_s = time.monotonic()
    report = client.wait_for(Command.STIMULATION_ERROR)
    assert pl.StimulationError.decode(report.data).error == code
    assert report.packet_number == 1  # device counter: Init was 0
    assert client.mode() == pl.StimulationMode.START
    assert emulator.pulse_log(since_s=injected_s) == []


def test_inject_electrode_error_checks_the_channel(make):
    emulator, _ = make(connect=False)
    with pytest.raises(InputError, match="channel"):
        emulator.inject_electrode_error(9)


def test_dropped_frames_in_both_directions(make):
    emulator, client = make()
    emulator.drop_frames(1)
    client.send(Command.GET_STIMULATION_MODE)
    assert client.receive(timeout_s=0.15) is None
    assert client.mode() == pl.StimulationMode.START
    client.start_list((1, single(10)))
    emulator.drop_frames(1, direction="tx")
    client.send(Command.STOP_CHANNEL_LIST_MODE)
    assert client.receive(timeout_s=0.15) is None  # the Ack is lost ...
    assert client.mode() == pl.StimulationMode.START  # ... but the stop happened


def test_a_corrupted_frame_fails_the_hosts_crc_check(make):
    emulator, client = make()
    emulator.corrupt_next_frame()
    client.send(Command.GET_STIMULATION_MODE)
    item = client.receive()
    assert isinstance(item, codec.FrameError) and item.reason == "CRC mismatch"
    assert client.mode() == pl.StimulationMode.START


def test_delayed_acks(make):
    emulator, client = make()
    emulator.delay_acks(150)
    sent_s = time.monotonic()
    client.mode()
    assert time.monotonic() - sent_s >= 0.15
    emulator.delay_acks(0)
    sent_s = time.monotonic()
    client.mode()
    assert time.monotonic() - sent_s < 0.1


def test_jittered_acks_stay_in_order(make):
    _, client = make(ack_latency_ms=0, ack_jitter_ms=30, seed=7)
    numbers = [client.send(Command.GET_STIMULATION_MODE) for _ in range(5)]
    answers = [client.wait_for(Command.GET_STIMULATION_MODE_ACK) for _ in numbers]
    assert [a.packet_number for a in answers] == numbers


def test_busy_device_answers_minus_8_but_always_obeys_stop(make):
    _, client = make(ack_latency_ms=100, busy_when_pending=True)
    init = pl.InitChannelListMode.from_ms(t1_ms=40, channels=[1]).encode()
    first = client.send(Command.INIT_CHANNEL_LIST_MODE, init)
    second = client.send(Command.GET_STIMULATION_MODE)
    client.send(Command.STOP_CHANNEL_LIST_MODE)
    answers = [client.receive(timeout_s=1.0) for _ in range(3)]
    assert [(a.command, a.packet_number, a.data) for a in answers] == [
        (Command.INIT_CHANNEL_LIST_MODE_ACK, first, b"\x00"),
        (Command.GET_STIMULATION_MODE_ACK, second, b"\xf8"),
        (Command.STOP_CHANNEL_LIST_MODE_ACK, second + 1, b"\x00"),
    ]


def test_a_hung_device_answers_nothing_and_keeps_stimulating(make):
    emulator, client = make(watchdog_timeout_ms=200)
    client.start_list((1, single(20)))
    emulator.set_hung(True)
    hung_s = time.monotonic()
    client.send(Command.STOP_CHANNEL_LIST_MODE)
    assert client.receive(timeout_s=0.4) is None  # not even Init: the watchdog is frozen
    assert emulator.pulse_log(since_s=hung_s + 0.3)
    emulator.set_hung(False)
    assert client.mode() == pl.StimulationMode.STARTED  # the stop sent while hung was lost


def test_closing_the_pty_unplugs_the_host(make):
    emulator, client = make()
    emulator.close_pty()
    assert select.select([client.fd], [], [], 1.0)[0]
    assert os.read(client.fd, 64) == b""  # hang-up: pyserial raises SerialException here
    with pytest.raises(OSError):  # EIO
        os.write(client.fd, codec.encode_frame(0, Command.WATCHDOG))
    emulator.close()  # still fine


def test_bad_configuration_names_the_field():
    with pytest.raises(InputError) as raised:
        EmulatorConfig(policy="loose", watchdog_timeout_ms=0)  # type: ignore[arg-type]
    assert [p.path for p in raised.value.problems] == ["policy", "watchdog_timeout_ms"]


# --------------------------------------------------------------------------- CLI


def test_emulate_cli_publishes_a_link_and_stops_cleanly(tmp_path):
    link = tmp_path / "rehastim2"
    with pty_client.emulator_cli(run_emulator_cli, link, ack_latency_ms=1.0) as out:
        client = RawClient(str(link))
        client.connect()
        assert client.mode() == pl.StimulationMode.START
        client.close()
    text = out.getvalue()
    assert "RehaStim 2 emulator on /dev/pts/" in text and str(link) in text
    assert "[state] connected" in text


def test_emulate_cli_cleans_up_on_sigterm(tmp_path):
    link = tmp_path / "rehastim2"
    code = (
        "from pathlib import Path; from stimwise.cli.emulate import run_emulator_cli; "
        f"run_emulator_cli(link=Path({str(link)!r}))"
    )
    first_line = pty_client.first_line_then_sigterm([sys.executable, "-c", code], link)
    assert first_line.startswith("RehaStim 2 emulator on /dev/pts/")


def test_emulate_cli_refuses_an_unknown_policy():
    with pytest.raises(InputError, match="policy"):
        run_emulator_cli(policy="loose", stop=threading.Event())


# --------------------------------------------------------------------------- pyScienceMode


class PsmProcess(pty_client.ClientProcess):
    """pyScienceMode in a subprocess, killed if it outlives its hard timeout."""

    def __init__(self, port: str, scenario: str, *options: str) -> None:
        super().__init__(PSM_CLIENT, port, scenario, *options, timeout_s=PSM_TIMEOUT_S)


def psm_emulator() -> RehaStim2Emulator:
    return RehaStim2Emulator(
        EmulatorConfig(policy="lenient", watchdog_policy="warn", ack_latency_ms=1.0)
    ).start()


@pytest.mark.slow
@pytest.mark.parametrize(("show_log", "updates"), [(False, 250), (True, 14)])
def test_a_pyscience_mode_session_runs_end_to_end(show_log, updates):
    emulator = psm_emulator()
    try:
        options = ["--updates", str(updates)] + (["--show-log"] if show_log else [])
        result = PsmProcess(emulator.port, "session", *options).result()
    finally:
        emulator.close()
    assert result["raised"] is None, result
    commands = [c for c in emulator.received() if c != Command.WATCHDOG]
    start, stop = Command.START_CHANNEL_LIST_MODE, Command.STOP_CHANNEL_LIST_MODE
    assert commands == [Command.INIT_ACK, stop, Command.INIT_CHANNEL_LIST_MODE] + [start] * (
        updates + 2
    ) + [stop]
    numbers = {e.detail["packet_number"] for e in emulator.events("rx")}
    assert {0x5F, 0x5A} <= numbers  # pSM's unescaped 10 and 15
    if updates >= 240:
        assert {0x00, 0xD4, 0xA5} <= numbers  # 85, 129 and 240
    assert not emulator.events("error")
    assert not [e for e in emulator.events("warning") if "460800" in e.message]
    assert any("t2_ms: got 2.0" in e.message for e in emulator.events("warning"))

    def pulses(channel: int, since_s: float, until_s: float) -> list:
        return [p for p in emulator.pulse_log(since_s, until_s) if p.channel == channel]

    running = pulses(1, result["t_started"] + 0.05, result["t_last_update"])
    gaps = {round(b.t_s - a.t_s, 6) for a, b in itertools.pairwise(running)}
    assert gaps == {0.04}  # 25 Hz
    settled = (result["t_last_update"] + 0.04, result["t_paused"])
    assert {p.current_ma for p in pulses(1, *settled)} == {result["last_ch1_ma"]}
    doublets = pulses(3, *settled)
    assert {(p.group, p.current_ma) for p in doublets} == {("doublet", 10)}
    first = next(i for i, p in enumerate(doublets) if p.index_in_group == 0)
    spacing_s = doublets[first + 1].t_s - doublets[first].t_s
    assert spacing_s == pytest.approx(0.008)  # t2 clamped to 8 ms
    paused_s = result["t_paused"] + 0.04  # the period in progress ends with the old settings
    assert emulator.pulse_log(since_s=paused_s) == []  # paused with zero currents
    assert emulator.mode == pl.StimulationMode.START


@pytest.mark.slow
def test_pyscience_mode_raises_after_an_injected_electrode_error():
    emulator = psm_emulator()
    try:
        session = PsmProcess(emulator.port, "error", "--show-log")
        assert session.wait_line("STARTED")
        emulator.inject_electrode_error(3)
        injected_s = time.monotonic()
        session.process.stdin.write("go\n")  # type: ignore[union-attr]
        session.process.stdin.flush()  # type: ignore[union-attr]
        result = session.result()
    finally:
        emulator.close()
    assert (result["raised"], result["message"]) == ("RuntimeError", "Stimulation error")
    assert result["attempts"] <= 3
    assert [e.message for e in emulator.events("fault")] == [
        "StimulationError ELECTRODE: electrode error on channel 3"
    ]
    assert emulator.pulse_log(since_s=injected_s) == []
