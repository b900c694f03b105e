"""The prescription editor of issue 16 (item 2): one protocol picker by name, grouped site
pickers and typed site names (HAZ-169), the home range in the rule's one sentence, a required
review date (HAZ-165) and the clinicians' due-for-review list with the review action."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update

from stimwise.records.inputs import home_amplitude_rule_text
from stimwise.records.models import PrescriptionRecord
from test_web_clinical_support import CRPS, form_fields, prescription_count, screened_patient
from test_web_prescribing import crps_draft
from test_web_reports_signed import machine_words, visible_text
from web_fixtures import login_as

pytest_plugins = ["web_fixtures"]
TODAY = datetime.now(UTC).date()


def _editor(client) -> str:
    login_as(client, "clinician")
    screened_patient(client)
    page = client.get(f"/patients/{CRPS}/prescribe")
    assert page.status_code == 200
    return page.text


def test_one_protocol_picker_by_name_and_loading_keeps_the_dates(app_client):
    page = _editor(app_client)
    assert len(re.findall(r"<select[^>]*name=\"protocol_id\"", page)) == 1
    assert 'name="protocol"' not in page  # the second picker of issue 16 is gone
    assert "Gentle sensory TENS for CRPS" in page
    text = visible_text(page)
    assert "crps-gentle-sensory" not in text and machine_words(text[text.index("Prescribe"):]) == []
    fields = form_fields(page)
    review_on = (TODAY + timedelta(days=10)).isoformat()
    fields.update(protocol_id=["burst-tens"], review_on=[review_on], action=["load"])
    app_client.headers.pop("X-CSRF-Token")
    loaded = app_client.post(f"/patients/{CRPS}/prescribe", data=fields)
    assert loaded.status_code == 200
    again = form_fields(loaded.text)
    assert again["protocol_id"] == ["burst-tens"] and again["review_on"] == [review_on]
    assert again["session_duration_min"] == ["30"]  # burst TENS's own session length


def test_site_pickers_are_grouped_and_marked_with_the_screening(app_client):
    page = _editor(app_client)
    picker = re.search(r'<select id="field-channels-0-active_site".*?</select>', page, re.S)
    groups = re.findall(r'<optgroup label="([^"]+)"', picker.group(0))
    assert groups[:2] == ["Head", "Neck"] and "Arms" in groups and "Legs" in groups
    assert "Left hand, back (not allowed by the screening)" in picker.group(0)  # allodynic
    assert 'value="left_lower_limb"' not in picker.group(0)  # an area is not one site


def test_HAZ169_a_typed_electrode_site_is_taken_only_when_it_means_one_site(app_client):
    _editor(app_client)
    draft = crps_draft(app_client)
    draft["channels"][0]["return_site"] = "L elbow"
    stored = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft)
    assert stored.status_code == 201, stored.text
    rows = app_client.get(f"/api/v1/patients/{CRPS}/prescriptions").json()
    assert rows and prescription_count(app_client.app) == 1
    for typed, words in (("left leg", "could mean several places"),
                         ("elbow", "does not say which side"),
                         ("left elbo", "did you mean Left elbow")):
        draft["channels"][0]["return_site"] = typed
        refused = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify", json=draft)
        assert refused.status_code == 422, typed
        problem = refused.json()["problems"][0]
        assert problem["path"] == "channels.0.return_site" and words in problem["expected"]
    assert prescription_count(app_client.app) == 1


def test_HAZ165_a_prescription_without_a_sound_review_date_is_not_stored(app_client):
    page = _editor(app_client)
    draft = crps_draft(app_client)
    del draft["review_on"]
    missing = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=draft)
    assert missing.status_code == 422 and missing.json()["problems"][0]["path"] == "review_on"
    past = crps_draft(app_client, review_on=(TODAY - timedelta(days=1)).isoformat())
    refused = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=past)
    assert refused.status_code == 422 and "not in the past" in refused.json()["problems"][0][
        "expected"]
    checked = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify", json=past).json()
    assert not checked["storable"] and checked["problems"][0]["label"] == "Review on"
    fields = form_fields(page)
    assert fields["review_on"] == [(TODAY + timedelta(days=28)).isoformat()]  # suggested
    fields.update(review_on=[""], action=["save"])
    app_client.headers.pop("X-CSRF-Token")
    answer = app_client.post(f"/patients/{CRPS}/prescribe", data=fields)
    assert answer.status_code == 422
    assert 'href="#field-review_on">Review on</a>' in answer.text
    assert prescription_count(app_client.app) == 0
    fields["review_on"] = [(TODAY + timedelta(days=14)).isoformat()]
    saved = app_client.post(f"/patients/{CRPS}/prescribe", data=fields)
    assert saved.status_code == 303
    listing = visible_text(app_client.get(saved.headers["location"]).text)
    assert "review on" in listing and (TODAY + timedelta(days=14)).strftime("%b %Y") in listing


def test_the_home_range_is_one_sentence_with_the_rules_words_everywhere(app_client):
    page = _editor(app_client)
    ceiling = float(form_fields(page)["max_amplitude_ma"][0])
    sentence = home_amplitude_rule_text(ceiling)
    assert f"Home use: <span id=\"home-rule-text\">{html.escape(sentence)}</span>." in page
    above = crps_draft(app_client, home_use=True, amplitude_ma_min=1,
                       amplitude_ma_max=ceiling + 1)
    checked = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/verify",
                              json=above).json()
    assert checked["home_amplitude_rule"] == sentence
    assert checked["problems"][0] == {"path": "amplitude_ma_max", "value": ceiling + 1,
                                      "expected": sentence,
                                      "label": "Home: highest amplitude (mA)"}
    refused = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=above)
    assert refused.json()["problems"][0]["expected"] == sentence


def _due_patient(client, days_ago: int) -> int:
    """A stored prescription whose review date is moved ``days_ago`` into the past."""
    _editor(client)
    stored = client.post(f"/api/v1/patients/{CRPS}/prescriptions", json=crps_draft(client))
    assert stored.status_code == 201, stored.text
    with client.app.state.db.transaction() as s:
        s.execute(update(PrescriptionRecord).where(PrescriptionRecord.id == stored.json()["id"])
                  .values(review_on=TODAY - timedelta(days=days_ago)))
    return stored.json()["id"]


def test_due_for_review_list_links_the_patient_and_the_review_clears_it(app_client):
    prescription_id = _due_patient(app_client, 3)
    page = app_client.get("/reviews").text
    text = visible_text(page)
    assert "Overdue (1)" in text and "Overdue by 3 days" in text and "Due this week (0)" in text
    assert f'href="/patients/{CRPS}"' in page
    assert f'href="/patients/{CRPS}/prescriptions/{prescription_id}"' in page
    assert machine_words(text[text.index("Reviews due"):]) == []
    due = app_client.get("/api/v1/reviews/due").json()
    assert [(d["pseudonym"], d["overdue"]) for d in due] == [(CRPS, True)]
    detail = f"/patients/{CRPS}/prescriptions/{prescription_id}"
    fields = form_fields(app_client.get(detail).text)
    app_client.headers.pop("X-CSRF-Token")
    bad = app_client.post(f"{detail}/review", data={
        "csrf_token": fields["csrf_token"][0],
        "next_review_on": (TODAY + timedelta(days=120)).isoformat()})
    assert bad.status_code == 422 and "within 12 weeks" in bad.text
    done = app_client.post(f"{detail}/review", data={
        "csrf_token": fields["csrf_token"][0],
        "next_review_on": (TODAY + timedelta(days=21)).isoformat()})
    assert done.status_code == 303
    assert "Review recorded" in app_client.get(done.headers["location"]).text
    assert "Overdue (0)" in visible_text(app_client.get("/reviews").text)


def test_only_clinicians_see_and_record_reviews(app_client):
    prescription_id = _due_patient(app_client, 1)
    login_as(app_client, "researcher")
    assert app_client.get("/reviews").status_code == 403
    assert app_client.get("/api/v1/reviews/due").status_code == 403
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/{prescription_id}/review",
                             json={"next_review_on": (TODAY + timedelta(days=7)).isoformat()})
    assert answer.status_code == 403
    login_as(app_client, "clinician")
    answer = app_client.post(f"/api/v1/patients/{CRPS}/prescriptions/{prescription_id}/review",
                             json={"next_review_on": (TODAY + timedelta(days=7)).isoformat()})
    assert answer.status_code == 200
    assert date.fromisoformat(answer.json()["review_on"]) == TODAY + timedelta(days=7)
