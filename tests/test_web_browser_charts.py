"""Browser tests of the charts (issue 13): drawn as SVG by the package's own ``plots.js`` (no
plotting package, nothing from a CDN) on the response dashboard and the prescription page, on
a desktop and a phone, with no script error and no serious accessibility violation.

Its own server, seeded with a person two months into therapy (diary and sessions).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn

from baseline_people import enrolment_day_person, steady_diary
from browser_fixtures import (
    DESKTOP,
    PHONE,
    free_port,
    new_page,
    require_chromium,
    serious_axe_violations,
    shot,
    sign_in,
)
from stimwise.analysis.from_records import cohort_prescription
from stimwise.records.access import Actor
from stimwise.records.repository import add_prescription
from web_fixtures import app_on, ensure_user, web_settings

pytestmark = pytest.mark.browser
pytest_plugins = ["browser_fixtures"]  # the shared Chromium fixture ``browser``
require_chromium()

PERSON = "BRW-CHART-01"
TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-charts")
    app = app_on(web_settings(f"sqlite:///{folder / 'web.sqlite3'}"))
    ensure_user(app, "clinician-1", "clinician")
    enrolment_day_person(app.state.db, PERSON, TODAY - timedelta(days=62),
                         {**steady_diary(0, 13, 7), **steady_diary(14, 61, 3, seed=1)},
                         list(range(14, 62)))
    with app.state.db.transaction() as session:
        add_prescription(session, Actor("browser-setup", "clinician"), PERSON,
                         cohort_prescription().model_copy(update={"valid_from": TODAY}))
    port = free_port()
    uvi = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uvi.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvi.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvi.should_exit = True
    thread.join(10)


def drawn(page) -> list[dict]:
    """What each chart on the page holds once drawn."""
    page.wait_for_function("() => [...document.querySelectorAll('.plot')]"
                           ".every((p) => p.querySelector('svg.plot-svg'))")
    return page.eval_on_selector_all(".plot", """(plots) => plots.map((p) => {
        const svg = p.querySelector('svg.plot-svg');
        return {label: svg.getAttribute('aria-label'), role: svg.getAttribute('role'),
                width: svg.getBoundingClientRect().width, box: p.getBoundingClientRect().width,
                lines: [...svg.querySelectorAll('path')].filter((l) => l.getAttribute('d')).length,
                dots: svg.querySelectorAll('circle').length,
                ticks: [...svg.querySelectorAll('text')].map((t) => t.textContent),
                legend: [...p.querySelectorAll('.plot-legend li')].map((l) => l.textContent.trim()),
                noJs: p.querySelector('.no-js') !== null};
    })""")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_response_dashboard_draws_its_charts(server, browser, viewport):
    page = new_page(browser, viewport=viewport)
    sign_in(page, server, "clinician-1")
    page.goto(f"{server}/patients/{PERSON}/response")
    charts = drawn(page)
    assert len(charts) >= 2
    diary = next(c for c in charts if c["label"].startswith("diary"))
    assert diary["role"] == "img" and "listed as text" in diary["label"]
    assert diary["dots"] >= 50  # one point per diary day
    assert "daily pain (average NRS)" in diary["legend"]
    assert any("NRS" in t for t in diary["ticks"]) and any(t == "date" for t in diary["ticks"])
    for chart in charts:
        assert not chart["noJs"]  # the "needs JavaScript" text is replaced by the chart
        assert chart["width"] <= chart["box"] + 1  # fits its box, phone included
    shot(page, f"40-response-charts-{'phone' if viewport == PHONE else 'desktop'}")
    assert serious_axe_violations(page) == []
    assert page.js_errors == [], page.js_errors


def test_the_prescription_page_draws_the_waveform_views(server, browser):
    page = new_page(browser, viewport=DESKTOP)
    sign_in(page, server, "clinician-1")
    page.goto(f"{server}/patients/{PERSON}/prescriptions")
    page.locator(f"a[href*='/patients/{PERSON}/prescriptions/']").first.click()
    page.wait_for_url(f"**/patients/{PERSON}/prescriptions/*")
    charts = drawn(page)
    assert len(charts) == 3
    for chart in charts:
        assert chart["lines"] >= 1 and any("mA" in t for t in chart["ticks"])
    shot(page, "41-prescription-waveform-charts")
    assert page.js_errors == [], page.js_errors
