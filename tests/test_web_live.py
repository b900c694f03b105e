"""Live session console over WebSocket: the runtime in a worker thread driven by the page.

Hazards: HAZ-073 closed or silent console → output stops (dead-man); HAZ-074 two consoles for
one session → refused; HAZ-075 home level outside the locked range → refused, ceiling = locked
range; HAZ-076 WebSocket from another origin, without a sign-in or for another patient →
refused; HAZ-077 emergency stop from every state; HAZ-078 home session only on a home-use
prescription, stored on the patient's behalf; HAZ-079 the session is stored once, from its
journal, and shows in the record; HAZ-083 the plan is verified for the console's patient.
"""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from builders import make_prescription
from stimwise.errors import SafetyBlockError
from stimwise.records.access import Actor
from stimwise.records.models import SessionEntry
from stimwise.records.sessions import import_journal
from stimwise.safety.caps import PatientCaps
from stimwise.safety.plan import prescription_fingerprint
from stimwise.session.journal import read_journal
from stimwise.session.runtime import SessionSettings
from stimwise.web.deps import STATIC_DIR
from stimwise.web.services.live_session import registry_of, verified_plan
from test_web_clinical_support import CRPS, screened_patient
from test_web_prescribing import crps_draft
from web_fixtures import login_as

pytest_plugins = ["web_fixtures"]

ORIGIN = {"origin": "http://testserver"}
SOCKET = f"/ws/v1/live/{CRPS}"
FAST = SessionSettings(calibration_step_s=0.05, rest_s=0.05, calibration_series=1,
                       status_interval_s=0.1)


@pytest.fixture
def live_app(app_client, tmp_path):
    """A clinician's client on an app with a CRPS patient, one stored prescription (id in
    ``app_client.rx_id``) and a home-use one (``app_client.home_rx_id``, locked 1–5 mA)."""
    app = app_client.app
    app.state.live_journal_dir = tmp_path / "journals"
    app.state.live_session_settings = FAST
    login_as(app_client, "clinician")
    screened_patient(app_client)
    draft = crps_draft(app_client)
    stored = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft)
    assert stored.status_code == 201, stored.text
    home = dict(draft, home_use=True, max_amplitude_ma=5, amplitude_ma_min=1, amplitude_ma_max=5)
    stored_home = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=home)
    assert stored_home.status_code == 201, stored_home.text
    app_client.rx_id = stored.json()["id"]
    app_client.home_rx_id = stored_home.json()["id"]
    yield app_client
    registry_of(app).stop_all()


def next_snapshot(ws, beat: bool = True) -> dict:
    """The next snapshot (errors fail the test); sends a heartbeat first, like the page."""
    while True:
        if beat:
            ws.send_json({"type": "heartbeat"})
        message = ws.receive_json()
        if message["type"] == "error":
            raise AssertionError(message)
        if message["type"] == "snapshot":
            return message


def wait_for(ws, predicate, timeout_s: float = 10.0, beat: bool = True) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        snap = next_snapshot(ws, beat)
        if predicate(snap):
            return snap
    raise AssertionError(f"condition not reached; last snapshot {snap}")


def answer(ws, kind: str, value: str) -> None:
    wait_for(ws, lambda s: s["prompt"] is not None and s["prompt"]["kind"] == kind)
    ws.send_json({"type": "answer", "kind": kind, "value": value})


def start_running(ws, rx_id: int, target_ma: float = 2.0) -> dict:
    """Start at a given level and answer the pre-checks; returns the first running snapshot."""
    ws.send_json({"type": "start", "prescription_id": rx_id, "target_ma": target_ma})
    answer(ws, "nrs_pre", "6")
    answer(ws, "skin_pre", "ok")
    return wait_for(ws, lambda s: s["state"] in ("ramping", "running") and s["applied_ma"] > 0)


def live_of(app):
    return registry_of(app).current(CRPS)


def pulses_after(live, t_s: float) -> int:
    device = live.runner.device
    return sum(len(device.log.pulses(label, t_s, math.inf)) for label in live.runner.labels)


def wait_stored(live, timeout_s: float = 10.0) -> None:
    assert live.stored.wait(timeout_s), "the session did not end"


def test_HAZ073_closed_socket_stops_output_within_dead_man_time(live_app):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        start_running(ws, live_app.rx_id)
        live = live_of(live_app.app)
        assert pulses_after(live, time.monotonic() - 0.5) > 0  # it really stimulates
    closed_s = time.monotonic()
    wait_stored(live, timeout_s=FAST.heartbeat_timeout_s + 1)
    assert live.runner.state == "aborted"
    assert time.monotonic() - closed_s < FAST.heartbeat_timeout_s
    assert live.runner.applied_ma == 0.0
    assert pulses_after(live, closed_s + FAST.heartbeat_timeout_s) == 0


def test_HAZ073_silent_console_is_stopped_by_the_dead_man_rule(live_app):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        start_running(ws, live_app.rx_id)
        live = live_of(live_app.app)
        last_beat_s = time.monotonic()
        # The socket stays open but the page stops sending heartbeats (frozen tab).
        snap = wait_for(ws, lambda s: s["state"] == "aborted", timeout_s=5, beat=False)
        stopped_s = time.monotonic()
    assert "dead-man" in snap["reason"]
    assert stopped_s - last_beat_s < FAST.heartbeat_timeout_s + 1.0
    assert pulses_after(live, last_beat_s + FAST.heartbeat_timeout_s + FAST.tick_s * 4) == 0


def test_HAZ074_a_second_console_only_watches_and_may_only_stop(live_app):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        start_running(ws, live_app.rx_id)
        live = live_of(live_app.app)
        with live_app.websocket_connect(SOCKET, headers=ORIGIN) as second:
            assert second.receive_json()["type"] == "watching"
            for refused in ({"type": "command", "name": "increase"},
                            {"type": "start", "prescription_id": live_app.rx_id},
                            {"type": "answer", "kind": "nrs_post", "value": "1"}):
                second.send_json(refused)
                while (message := second.receive_json())["type"] != "error":
                    pass
                assert "only the emergency stop" in message["message"]
            assert live_of(live_app.app) is live
            assert next_snapshot(ws)["state"] in ("ramping", "running")  # undisturbed
        # The watcher left: the driven session goes on.
        assert next_snapshot(ws)["state"] in ("ramping", "running")


def test_HAZ074_a_watchers_heartbeat_does_not_keep_the_session_alive(live_app):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        start_running(ws, live_app.rx_id)
        with live_app.websocket_connect(SOCKET, headers=ORIGIN) as second:
            assert second.receive_json()["type"] == "watching"
            # Only the watcher beats; the driver has gone silent: the dead-man rule still stops.
            snap = wait_for(second, lambda s: s["state"] == "aborted", timeout_s=5)
    assert "dead-man" in snap["reason"]


def test_HAZ077_a_watching_console_can_emergency_stop(live_app):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        start_running(ws, live_app.rx_id)
        patient = patient_client(live_app.app)  # e.g. the person on their phone
        with patient.websocket_connect(SOCKET, headers=ORIGIN) as watcher:
            assert watcher.receive_json()["type"] == "watching"
            watcher.send_json({"type": "emergency_stop"})
            snap = wait_for(watcher, lambda s: s["state"] == "aborted", timeout_s=2, beat=False)
        assert snap["applied_ma"] == 0
        assert wait_for(ws, lambda s: s["state"] == "aborted")["reason"].startswith("emergency")


def test_HAZ074_one_console_cannot_start_a_second_session(live_app):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        start_running(ws, live_app.rx_id)
        ws.send_json({"type": "start", "prescription_id": live_app.rx_id, "target_ma": 1})
        while (message := ws.receive_json())["type"] != "error":
            pass
        assert "already drives" in message["message"]
        ws.send_json({"type": "emergency_stop"})


def patient_client(app) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    login_as(client, "patient", CRPS)
    return client


def test_HAZ075_home_level_outside_the_locked_range_is_refused(live_app):
    patient = patient_client(live_app.app)
    with patient.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        for level in (0.5, 5.5, None):
            ws.send_json({"type": "start", "prescription_id": live_app.home_rx_id,
                          "target_ma": level})
            message = ws.receive_json()
            assert message["type"] == "error" and message["problems"], message
            assert message["problems"][0]["path"] == "target_ma"
            assert "1–5 mA" in message["problems"][0]["expected"]
        assert live_of(live_app.app) is None  # nothing started
        snap = start_running(ws, live_app.home_rx_id, target_ma=5)
        assert snap["ceiling_ma"] == 5  # the runtime's ceiling is the locked range's top
        for _ in range(12):
            ws.send_json({"type": "command", "name": "increase"})
        for _ in range(5):
            snap = next_snapshot(ws)
            assert snap["applied_ma"] <= 5 and snap["target_ma"] <= 5
        ws.send_json({"type": "emergency_stop"})
        wait_for(ws, lambda s: s["state"] == "aborted")


def test_HAZ078_home_session_needs_a_home_use_prescription(live_app):
    patient = patient_client(live_app.app)
    page = patient.get("/home-session")
    assert page.status_code == 200
    assert f'<option value="{live_app.home_rx_id}"' in page.text
    assert f'<option value="{live_app.rx_id}"' not in page.text  # the clinic-only one: not offered
    with patient.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        ws.send_json({"type": "start", "prescription_id": live_app.rx_id, "target_ma": 2})
        message = ws.receive_json()
    assert message["type"] == "error"
    assert message["problems"][0]["path"] == "prescription_id"
    assert live_of(live_app.app) is None


def test_HAZ078_home_session_is_stored_for_the_patient(live_app):
    patient = patient_client(live_app.app)
    with patient.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        ws.send_json({"type": "start", "prescription_id": live_app.home_rx_id, "target_ma": 2})
        answer(ws, "nrs_pre", "4")
        ws.send_json({"type": "command", "name": "stop"})  # before stimulation: ends at once
        answer(ws, "nrs_post", "3")
        answer(ws, "skin_post", "ok")
        while (message := ws.receive_json())["type"] != "finished":
            pass
    assert message["outcome"] == "completed" and message["stored"]
    assert message["report_url"] is None  # patients get no clinician report link
    assert "Completed" in patient.get("/home-session").text


@pytest.mark.parametrize(
    ("headers", "who", "code"),
    [
        ({"origin": "http://evil.example"}, "clinician", 4403),
        ({}, "clinician", 4403),
        (ORIGIN, None, 4401),
        (ORIGIN, "other-patient", 4403),
        (ORIGIN, "researcher", 4403),
    ],
)
def test_HAZ076_socket_refused_cross_origin_signed_out_or_other_patient(
    live_app, headers, who, code
):
    client = TestClient(live_app.app, follow_redirects=False)
    if who == "other-patient":
        login_as(client, "patient", "P002")
    elif who is not None:
        login_as(client, who)
    with (pytest.raises(WebSocketDisconnect) as refused,
          client.websocket_connect(SOCKET, headers=headers) as ws):
        ws.receive_json()
    assert refused.value.code == code


def _reach(ws, state: str, rx_id: int) -> None:
    """Bring a new session to ``state``."""
    target = None if state == "calibrating" else 2.0
    ws.send_json({"type": "start", "prescription_id": rx_id, "target_ma": target})
    if state == "idle":
        wait_for(ws, lambda s: s["prompt"] is not None)
        return
    answer(ws, "nrs_pre", "5")
    answer(ws, "skin_pre", "ok")
    if state == "calibrating":
        wait_for(ws, lambda s: s["state"] == "calibrating" and s["applied_ma"] > 0)
        return
    wait_for(ws, lambda s: s["state"] in ("ramping", "running") and s["applied_ma"] > 0)
    if state == "paused":
        ws.send_json({"type": "command", "name": "pause"})
        wait_for(ws, lambda s: s["state"] == "paused")
    elif state == "ramping_down":
        ws.send_json({"type": "command", "name": "stop"})
        wait_for(ws, lambda s: s["state"] == "ramping_down")


@pytest.mark.parametrize("state", ["idle", "calibrating", "running", "paused", "ramping_down"])
def test_HAZ077_emergency_stop_from_the_page_works_from_every_state(live_app, state):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        _reach(ws, state, live_app.rx_id)
        live = live_of(live_app.app)
        ws.send_json({"type": "emergency_stop"})
        pressed_s = time.monotonic()
        snap = wait_for(ws, lambda s: s["state"] == "aborted", timeout_s=2)
        while (message := ws.receive_json())["type"] != "finished":
            pass
    assert snap["applied_ma"] == 0 and "emergency stop" in snap["reason"]
    assert pulses_after(live, pressed_s + FAST.tick_s) == 0
    assert message["outcome"] == "aborted"


def test_HAZ079_session_is_stored_once_from_its_journal_and_shows_in_the_record(live_app):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        start_running(ws, live_app.rx_id)
        ws.send_json({"type": "emergency_stop"})
        while (message := ws.receive_json())["type"] != "finished":
            pass
    assert message["stored"] and message["outcome"] == "aborted"
    live = live_of(live_app.app)
    assert live.journal_path.is_file() and live.journal_path.is_relative_to(
        live_app.app.state.live_journal_dir)
    db = live_app.app.state.db
    with db.transaction() as session:  # importing the same journal again adds nothing
        again = import_journal(session, Actor("x", "clinician"), live.journal_path, CRPS)
    assert not again.created and again.session.id == message["session_id"]
    with db.reading() as session:
        rows = list(session.scalars(select(SessionEntry)))
    assert [(row.id, row.outcome, row.prescription_id) for row in rows] == [
        (message["session_id"], "aborted", live_app.rx_id)]
    page = live_app.get(f"/patients/{CRPS}/session")
    assert "Stopped early" in page.text and message["report_url"] in page.text
    assert live_app.get(message["report_url"]).status_code == 200


def test_HAZ083_the_console_runs_a_plan_verified_for_its_patient(live_app):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        start_running(ws, live_app.rx_id)
        live = live_of(live_app.app)
        assert live.runner.plan.patient_id == CRPS and live.runner.plan.patient_specific
        ws.send_json({"type": "emergency_stop"})
    wait_stored(live)
    start = read_journal(live.journal_path).events[0]
    assert (start["patient_id"], start["plan_patient_id"]) == (CRPS, CRPS)


def test_HAZ083_caps_stored_for_another_person_are_refused():
    rx = make_prescription()
    row = SimpleNamespace(
        id=1, prescription=rx.model_dump(mode="json"), fingerprint=prescription_fingerprint(rx),
        caps=PatientCaps(patient_id="P-OTHER").model_dump(mode="json"),
        home_use=False, locked_ranges=None,
    )
    with pytest.raises(SafetyBlockError, match="P-OTHER"):
        verified_plan(row, CRPS, home=False, target_ma=None)
    plan, caps = verified_plan(SimpleNamespace(**{**vars(row), "caps": None}), CRPS,
                               home=False, target_ma=None)
    assert plan.patient_id == caps.patient_id == CRPS


def test_console_page_lists_prescriptions_for_clinicians_only(live_app):
    page = live_app.get(f"/patients/{CRPS}/session")
    assert page.status_code == 200
    assert "EMERGENCY STOP" in page.text and 'src="/static/live.js?v=' in page.text
    assert f'value="{live_app.rx_id}"' in page.text
    patient = patient_client(live_app.app)
    assert patient.get(f"/patients/{CRPS}/session").status_code == 403


def test_bad_messages_are_answered_not_fatal(live_app):
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        ws.send_text("not json")
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "command", "name": "increase"})
        assert "no session" in ws.receive_json()["message"]
        ws.send_json({"type": "start", "prescription_id": "x"})
        assert ws.receive_json()["problems"][0]["path"] == "prescription_id"
        ws.send_json({"type": "start", "prescription_id": 999})
        assert ws.receive_json()["problems"][0]["path"] == "prescription_id"


def test_HAZ078_a_stale_answer_is_never_applied_to_a_new_question():
    from stimwise.session.prompts import Prompt
    from stimwise.web.services.live_session import PromptBoundResponder

    responder = PromptBoundResponder()
    responder.put("nrs_pre", "4")  # sent for the pre-session question...
    assert responder.answer(Prompt("nrs_post")) is None  # ...a stop replaced it: dropped
    responder.put("nrs_post", "3")
    assert responder.answer(Prompt("nrs_post")) == "3"


def test_HAZ073_server_shutdown_stops_every_live_session_before_closing_the_records(web_app):
    calls: list[str] = []

    class RecordingRegistry:
        def stop_all(self) -> None:
            calls.append("stop_all" if web_app.state.db is not None else "db gone")

    web_app.state.live_registry = RecordingRegistry()
    closed = web_app.state.db.close
    web_app.state.db.close = lambda: (calls.append("db.close"), closed())
    with TestClient(web_app):
        assert calls == []
    assert calls[:2] == ["stop_all", "db.close"]


def next_refusal(ws, timeout_s: float = 5.0) -> str:
    """The next ``refused`` message's text (heartbeats keep the session alive meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ws.send_json({"type": "heartbeat"})
        message = ws.receive_json()
        if message["type"] == "refused":
            return message["message"]
    raise AssertionError("no refusal reached the console")


def test_HAZ118_a_refused_command_says_why_on_the_console(live_app):
    """Issue 17, defect 1 (console side): a command the runtime does not act on is answered
    with what was pressed and the runtime's reason, never silently dropped."""
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        ws.send_json({"type": "start", "prescription_id": live_app.rx_id, "target_ma": 2.0})
        wait_for(ws, lambda s: s["prompt"] is not None and s["prompt"]["kind"] == "nrs_pre")
        ws.send_json({"type": "command", "name": "increase"})  # before any stimulation
        text = next_refusal(ws)
        assert text.startswith("+ mA was not applied: ")
        assert "only while stimulation runs" in text
        ws.send_json({"type": "emergency_stop"})


def test_the_pain_question_reaches_the_page_whole(live_app):
    """Issue 17, defect 2: the page showed "Pain now, 0?" (it cut the question at the first
    bracket); the question travels whole and the script no longer cuts it."""
    with live_app.websocket_connect(SOCKET, headers=ORIGIN) as ws:
        ws.send_json({"type": "start", "prescription_id": live_app.rx_id, "target_ma": 2.0})
        snap = wait_for(ws, lambda s: s["prompt"] is not None)
        assert snap["prompt"]["question"] == "Pain now, 0 (none) to 10 (worst possible)?"
        ws.send_json({"type": "emergency_stop"})
    script = (STATIC_DIR / "live.js").read_text(encoding="utf-8")
    assert "textContent = prompt.question;" in script
