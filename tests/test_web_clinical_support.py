"""Shared set-up of the clinician-page tests (no tests here): an example intake dated today,
a screened patient, and a synthetic patient with diary and sessions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from stimwise.analysis.cohort import simulate_cohort
from stimwise.analysis.from_records import write_cohort
from stimwise.clinical.examples import example_patient_path
from stimwise.records.access import Actor
from stimwise.records.models import AuditEntry, PrescriptionRecord
from web_fixtures import ensure_patient

CRPS = "DEMO-CRPS-01"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
NOTICE = "not a certified medical device"


def example_intake(name: str = "crps-allodynia", patient: str = CRPS, **changes) -> dict:
    """An example intake as JSON, assessed today."""
    data = yaml.safe_load(example_patient_path(name).read_text("utf-8"))
    data = json.loads(json.dumps(data, default=str))
    data.update({"patient_id": patient, "assessed_on": datetime.now(UTC).date().isoformat(),
                 **changes})
    return data


def screened_patient(client: TestClient, name: str = "crps-allodynia",
                     patient: str = CRPS, **changes) -> dict:
    """Record an example intake through the API (the client is a signed-in clinician)."""
    ensure_patient(client.app, patient)
    answer = client.post(f"/api/v1/patients/{patient}/intakes",
                         json=example_intake(name, patient, **changes))
    assert answer.status_code == 201, answer.text
    return answer.json()


def synthetic_patient(app, seed: int = 7) -> str:
    """One simulated person with ~16 weeks of diary and sessions ending yesterday and a home
    prescription with locked ranges; returns the pseudonym."""
    last_day = datetime.now(UTC).date() - timedelta(days=1)
    with app.state.db.transaction() as session:
        ids = write_cohort(session, Actor("cohort", "clinician"), simulate_cohort(1, seed),
                           last_day)
    return next(iter(ids))


def prescription_count(app, pseudonym: str | None = None) -> int:
    with app.state.db.reading() as session:
        return session.scalar(select(func.count()).select_from(PrescriptionRecord))


def prescriptions(app) -> list[PrescriptionRecord]:
    with app.state.db.reading() as session:
        return list(session.scalars(select(PrescriptionRecord).order_by(PrescriptionRecord.id)))


def audit_actions(app) -> list[str]:
    with app.state.db.reading() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def form_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return CSRF_FIELD.search(page.text).group(1)


def form_fields(html: str) -> dict[str, list[str]]:
    """Names and values of the inputs and selected options of a page (enough to resubmit a
    generated form as a browser would)."""
    fields: dict[str, list[str]] = {}
    html = re.sub(r"<template\b.*?</template>", "", html, flags=re.S)  # not submitted
    for tag in re.findall(r"<input\b[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio") and " checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields.setdefault(name.group(1), []).append(unescape(value.group(1)) if value else "")
    for select_name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html,
                                        re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        fields[select_name] = [chosen.group(1) if chosen else ""]
    for area_name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html,
                                      re.S):
        fields[area_name] = [unescape(text)]
    return fields
