"""Sessions of the independent ``science-mode-4`` client (0.0.23, MIT) against a P24 port, run by
the emulator tests in a subprocess with a hard timeout.

The client waits for answers by polling and raises ``ProtocolError`` on an error or after its
own 5 s timeout; the tests still bound the whole run and judge it from the emulator's side. The
last stdout line is ``RESULT <json>`` with monotonic timestamps (CLOCK_MONOTONIC is shared
between processes on Linux). No adapter is needed: the client's ``SerialPortConnection`` opens
the emulator's pty like the P24's USB CDC port.

Usage: ``python sm4_p24_client.py PORT {mid,low} [--updates N] [--pulses N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time

from science_mode_4 import (
    Channel,
    ChannelPoint,
    Commands,
    Connector,
    DeviceP24,
    LowLevelHighVoltageSource,
    LowLevelMode,
    MidLevelChannelConfiguration,
    SerialPortConnection,
    logger,
)

PERIOD_MS = 25
"""40 Hz on both mid-level channels."""
WIDTH_US = 250
GAP_US = 100
KEEPALIVE_EVERY = 10
"""Ml_get_current_data after every this many updates (well inside the device's 2 s)."""


def biphasic(current_ma: float) -> list[ChannelPoint]:
    """A symmetric biphasic pulse: +I for 250 µs, 100 µs at zero, −I for 250 µs."""
    return [
        ChannelPoint(WIDTH_US, current_ma),
        ChannelPoint(GAP_US, 0),
        ChannelPoint(WIDTH_US, -current_ma),
    ]


def mid_channels(red_ma: float, black_ma: float) -> list[MidLevelChannelConfiguration | None]:
    """Channel 1 (red) and channel 3 (black) at 40 Hz; 2 left off."""
    return [
        MidLevelChannelConfiguration(True, 0, PERIOD_MS, biphasic(red_ma)),
        None,
        MidLevelChannelConfiguration(True, 0, PERIOD_MS, biphasic(black_ma)),
    ]


async def mid_session(device: DeviceP24, updates: int, result: dict) -> None:
    mid = device.get_layer_mid_level()
    await mid.init(do_stop_on_all_errors=True)
    await mid.update(mid_channels(10, 5))
    result["t_started"] = time.monotonic()
    data = await mid.get_current_data()
    result["active_after_start"] = data.is_stimulation_active_per_channel
    for index in range(updates):
        await mid.update(mid_channels(10 + (index % 20) * 0.5, 5))
        if index % KEEPALIVE_EVERY == 0:
            await mid.get_current_data()
    result["last_red_ma"] = 10 + ((updates - 1) % 20) * 0.5
    result["t_last_update"] = time.monotonic()
    for _ in range(3):  # hold the last setting for 1.5 s on the keep-alive alone
        await asyncio.sleep(0.5)
        data = await mid.get_current_data()
    result["t_held"] = time.monotonic()
    result["active_at_end"] = data.is_stimulation_active_per_channel
    result["errors_at_end"] = [error.name for error in data.channel_error]
    await mid.stop()
    result["t_stopped"] = time.monotonic()


async def low_session(device: DeviceP24, pulses: int, result: dict) -> None:
    low = device.get_layer_low_level()
    await low.init(LowLevelMode.NO_MEASUREMENT, LowLevelHighVoltageSource.STANDARD)
    result["t_started"] = time.monotonic()
    acks: list[tuple[int, int, str]] = []
    for index in range(pulses):
        connector = Connector.YELLOW if index % 2 == 0 else Connector.GREEN
        low.send_channel_config(True, Channel.BLUE, connector, biphasic(8 + index % 4))
        await asyncio.sleep(0.02)
        while (ack := low.packet_buffer.get_packet_from_buffer()) is not None:
            if ack.command == Commands.LOW_LEVEL_CHANNEL_CONFIG_ACK:
                acks.append((ack.connector, ack.channel, ack.result.name))
    deadline = time.monotonic() + 2.0
    while len(acks) < pulses and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        while (ack := low.packet_buffer.get_packet_from_buffer()) is not None:
            if ack.command == Commands.LOW_LEVEL_CHANNEL_CONFIG_ACK:
                acks.append((ack.connector, ack.channel, ack.result.name))
    result["acks"] = acks
    await low.stop()
    result["t_stopped"] = time.monotonic()


async def run(port: str, scenario: str, updates: int, pulses: int) -> dict:
    result: dict = {"raised": None}
    connection = SerialPortConnection(port)
    connection.open()
    try:
        device = DeviceP24(connection)
        await device.initialize()
        general = device.get_layer_general()
        result["device_id"] = general.device_id
        result["firmware_version"] = general.firmware_version
        result["science_mode_version"] = general.science_mode_version
        status = await general.get_stim_status()
        result["status_before"] = status.stim_status.name
        if scenario == "mid":
            await mid_session(device, updates, result)
        else:
            await low_session(device, pulses, result)
        result["status_after"] = (await general.get_stim_status()).stim_status.name
    except Exception as error:
        result["raised"] = type(error).__name__
        result["message"] = str(error)
    finally:
        connection.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port")
    parser.add_argument("scenario", choices=("mid", "low"))
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--pulses", type=int, default=40)
    args = parser.parse_args()
    logger().setLevel(logging.WARNING)
    result = asyncio.run(run(args.port, args.scenario, args.updates, args.pulses))
    print("RESULT " + json.dumps(result), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
