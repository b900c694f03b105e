"""The intake page over HTTP: sections in words, drafts saved and resumed (never screened,
HAZ-160), errors next to their inputs with nothing lost, the live preview, typed places, and the
screening page that follows."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from stimwise.records.models import IntakeDraft, IntakeRecord
from test_web_clinical_support import CRPS, audit_actions, form_fields, screened_patient
from test_web_intake_answers import PACEMAKER, SLOT, complete_form
from web_fixtures import ensure_patient, login_as

pytest_plugins = ["web_fixtures"]
NEW = "P-NEW-01"
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def visible_text(page: str) -> str:
    """The page's text without tags, scripts, templates and attribute values."""
    body = page.split("<main", 1)[-1].split("</main>", 1)[0]
    body = re.sub(r"<template\b.*?</template>|<script\b.*?</script>", " ", body, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def count(app, model) -> int:
    with app.state.db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def post(client, pseudonym: str, form: dict, action: str):
    data = {k: v for k, v in form.items() if k not in ("csrf_token", "action")}
    return client.post(f"/patients/{pseudonym}/intake", data={**data, "action": action})


def test_the_page_is_in_sections_and_words(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, NEW)
    page = app_client.get(f"/patients/{NEW}/intake").text
    for title in ("Person", "Diagnoses and pain", "Heart and implants", "Other conditions",
                  "Skin and sensation", "Home use", "Questionnaires", "Specialist clearances"):
        assert f'>{title}' in page or f'. {title}' in page, title
    text = visible_text(page)
    assert not SNAKE.search(text), SNAKE.findall(text)[:5]
    assert "Demand pacemaker" in page and "Implanted defibrillator (ICD)" in page
    assert 'name="implants.__answer" value="unknown"' in page  # lists answer "Unknown" too
    assert not re.search(r'name="cardiac.arrhythmia" value="\w+"[^>]* checked', page)
    assert "1 of 26" in text  # progress of the required answers: the day is filled in


def test_HAZ160_a_draft_is_saved_resumed_and_never_screened_or_prescribed_from(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, NEW)
    form = complete_form(**PACEMAKER, age_years="71")
    saved = post(app_client, NEW, form, "draft")
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=draft")
    assert count(app_client.app, IntakeRecord) == 0 and count(app_client.app, IntakeDraft) == 1
    page = app_client.get(f"/patients/{NEW}/intake?saved=draft").text
    assert "A draft is not an intake" in page and "Draft saved" in page
    assert 'name="age_years" value="71"' in page  # resumed as it was typed
    assert app_client.get(f"/api/v1/patients/{NEW}/screening").status_code == 422
    screening = app_client.get(f"/patients/{NEW}/screening").text
    assert "No intake is recorded yet" in screening and "is not recorded yet" in screening
    prescribe = app_client.get(f"/api/v1/patients/{NEW}/recommendations")
    assert prescribe.status_code == 422
    drafts = [a for a in audit_actions(app_client.app) if "draft" in a]
    assert drafts[:2] == ["save_intake_draft", "read_intake_draft"]
    # recording the intake discards the draft
    recorded = post(app_client, NEW, form, "save")
    assert recorded.status_code == 303
    assert count(app_client.app, IntakeRecord) == 1 and count(app_client.app, IntakeDraft) == 0
    assert "draft" not in app_client.get(f"/patients/{NEW}/screening").text.lower()


def test_HAZ160_a_draft_is_for_clinicians_only(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, NEW)
    post(app_client, NEW, complete_form(), "draft")
    login_as(app_client, "researcher")
    assert app_client.get(f"/patients/{NEW}/intake").status_code == 403
    assert "draft" not in app_client.get(f"/patients/{NEW}/screening").text.lower()
    assert app_client.post(f"/patients/{NEW}/intake", data={"action": "draft"}).status_code == 403


def test_a_draft_can_be_discarded(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    post(app_client, CRPS, complete_form(age_years="33"), "draft")
    gone = post(app_client, CRPS, {}, "discard")
    assert gone.status_code == 303 and count(app_client.app, IntakeDraft) == 0
    page = app_client.get(f"/patients/{CRPS}/intake").text
    assert 'name="age_years" value="46"' in page  # back to the recorded intake
    assert "discard_intake_draft" in audit_actions(app_client.app)


def test_a_refused_intake_shows_each_problem_at_its_input_and_keeps_everything(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, NEW)
    form = complete_form(**{"age_years": "two hundred", "cardiac.arrhythmia": [],
                            "pain_sites.__typed": "left calf, hand"})
    answer = post(app_client, NEW, form, "save")
    assert answer.status_code == 422
    page = answer.text
    summary = page.split('id="problems"', 1)[1].split("</div>", 1)[0]
    assert 'href="#field-age_years"' in summary and "a whole number" in summary
    assert 'href="#field-cardiac-arrhythmia"' in summary
    assert "does not say which side" in unescape(summary)
    assert 'id="field-age_years-errors"' in page  # next to the input
    assert 'value="two hundred"' in page
    # the place that matched is shown as chosen, the one that did not stays typed
    assert 'name="pain_sites" value="left_calf" checked' in page and 'value="hand"' in page
    assert not SNAKE.search(visible_text(summary))
    for target in re.findall(r'href="#([^"]+)"', summary):  # every link reaches its input
        assert f'id="{target}"' in page, target
    assert count(app_client.app, IntakeRecord) == 0
    assert count(app_client.app, IntakeDraft) == 1  # kept as the draft


def test_a_revision_starts_from_the_recorded_intake_and_records_format_2(app_client):
    login_as(app_client, "clinician")
    screened_patient(app_client)
    fields = form_fields(app_client.get(f"/patients/{CRPS}/intake").text)
    assert fields["diagnoses.0.affected_sites"] == ["left_hand", "left_wrist", "left_forearm"]
    fields.update({k: v for k, v in complete_form().items() if k in (
        "parkinsons_disease", "cognition", "carer", "anticoagulant_therapy",
        "arterial_disease.__answer", "external_devices.__answer", "radiotherapy.__answer")})
    saved = post(app_client, CRPS, fields, "save")
    assert saved.status_code == 303, saved.text[:2000]
    stored = app_client.get(f"/api/v1/patients/{CRPS}/screening").json()
    assert stored["intake_id"] == 2 and stored["screening"]["not_asked"] == []
    assert stored["screening"]["decision"] == "eligible_with_precautions"


def test_add_a_row_without_javascript_keeps_the_answers_and_stores_nothing(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, NEW)
    answer = post(app_client, NEW, complete_form(**PACEMAKER, age_years="70"), "add:implants")
    assert answer.status_code == 200
    assert 'name="implants.1.kind"' in answer.text and 'value="70"' in answer.text
    assert count(app_client.app, IntakeRecord) == 0


def test_the_preview_gives_progress_scores_and_the_clearances_that_apply(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, NEW)
    form = complete_form(**PACEMAKER)
    form.update({"instruments.0.instrument": ["pain_nrs"], "instruments.__rows": ["1"],
                 "instruments.0.answers.current": ["6"]})
    answer = app_client.post(f"/patients/{NEW}/intake/preview", data=form)
    assert answer.status_code == 200
    body = answer.json()
    assert body["answered"] == body["required"] == 26
    assert body["scores"]["instruments.0."] == (
        "Pain intensity numeric rating scale: 1 of 3 answered")
    assert "CI-CARDIAC-DEVICE:applies" in body["clearances_key"]
    assert "applies to this person" in body["clearances_html"]
    assert count(app_client.app, IntakeRecord) == count(app_client.app, IntakeDraft) == 0


def test_typed_places_are_matched_in_words(app_client):
    login_as(app_client, "clinician")
    found = app_client.get("/sites/match", params={"text": "right hand, hand"}).json()
    assert found["places"] == [{"value": "right_hand", "label": "Right hand (whole)"}]
    [problem] = found["problems"]
    assert "does not say which side" in problem["problem"]
    assert [s["label"] for s in problem["suggestions"]] == ["Left hand (whole)",
                                                            "Right hand (whole)"]
    login_as(app_client, "patient")
    assert app_client.get("/sites/match", params={"text": "hand"}).status_code == 403


def test_the_screening_says_what_to_find_out_before_stimulating(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, NEW)
    assert post(app_client, NEW, complete_form(**{"implants.__answer": "unknown"}),
                "save").status_code == 303
    page = app_client.get(f"/patients/{NEW}/screening").text
    assert "Decision: Needs specialist clearance" in page
    find_out = page.split('id="find-out-h"', 1)[1].split("</section>", 1)[0]
    assert "Implants (not known)" in find_out
    assert "Not known: Implants (screened as a possible yes)" in visible_text(page)


def test_the_cardiology_clearance_is_chosen_on_the_page_and_lifts_the_rule(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, NEW)
    post(app_client, NEW, complete_form(**PACEMAKER), "save")
    page = app_client.get(f"/patients/{NEW}/intake").text
    assert "applies to this person" in page and "(by the cardiologist)" in page
    form = form_fields(page)
    form.update({f"{SLOT}__chosen": ["on"], f"{SLOT}cleared_by": ["Dr A. Heart"],
                 f"{SLOT}cleared_on": ["2025-06-01"]})
    assert form[f"{SLOT}role"] == ["cardiologist"]  # offered from the rule
    assert post(app_client, NEW, form, "save").status_code == 303
    screening = app_client.get(f"/patients/{NEW}/screening").text
    assert "Decision: Eligible with precautions" in screening
    assert "Cleared by Dr A. Heart (cardiologist) on 2025-06-01" in screening


def test_every_problem_links_to_an_input_on_the_page(app_client):
    """Problems inside rows, questionnaires and clearances link to an input that exists."""
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, NEW)
    form = complete_form(**{
        **PACEMAKER, "implants.0.site": [], "implants.0.site.__typed": "chest",
        "sensation.__answer": "yes", "sensation.__rows": "1", "sensation.0.status": "absent",
        f"{SLOT}__chosen": "on",
        "instruments.__rows": "1", "instruments.0.instrument": "dn4",
        "instruments.0.answers.burning": "yes"})
    page = post(app_client, NEW, form, "save").text
    summary = page.split('id="problems"', 1)[1].split("</div>", 1)[0]
    targets = re.findall(r'href="#([^"]+)"', summary)
    assert len(targets) >= 5
    for target in targets:
        assert f'id="{target}"' in page, target


def test_a_draft_older_than_the_latest_intake_says_so(app_client):
    login_as(app_client, "clinician")
    ensure_patient(app_client.app, CRPS)
    post(app_client, CRPS, complete_form(age_years="33"), "draft")
    screened_patient(app_client)  # recorded through the API after the draft
    page = app_client.get(f"/patients/{CRPS}/intake").text
    assert "An intake was recorded after this draft was saved" in page
