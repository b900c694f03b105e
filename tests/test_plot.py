"""Plots: figures for any prescription, drawn into new figures or the caller's axes, saved by the
one save helper in the format the suffix names, and never touching matplotlib's global state."""

from __future__ import annotations

import subprocess
import sys

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from builders import carrier, channel_dict, make_prescription, pulse_train
from stimwise.errors import ArgumentTypeError, InputError
from stimwise.plotting import check_figure_path, save_figure
from stimwise.protocol.library import library
from stimwise.protocol.prescription import Prescription
from stimwise.waveform.plot import PANELS, plot_prescription

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_returns_a_figure_with_three_panels_that_saves_as_a_png(tmp_path):
    figure = plot_prescription(make_prescription())
    assert isinstance(figure, Figure)
    assert [ax.get_ylabel() for ax in figure.axes] == [
        "current (mA)", "current (mA)", "peak amplitude (mA)"
    ]
    out = save_figure(figure, tmp_path / "tens.png")
    assert out == tmp_path / "tens.png"
    data = out.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["tens.png"]  # no temporary left


@pytest.mark.parametrize("protocol_id", ["burst-tens", "nmes-strengthening", "hf-ems-neuropathy"])
def test_plot_draws_library_protocols_and_takes_a_protocol_as_its_defaults(protocol_id, tmp_path):
    protocol = library()[protocol_id]
    from_protocol = plot_prescription(protocol)
    from_prescription = plot_prescription(Prescription.from_protocol(protocol))
    assert from_protocol._suptitle.get_text() == from_prescription._suptitle.get_text()
    out = save_figure(from_protocol, tmp_path / f"{protocol_id}.png")
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize(("suffix", "magic"), [("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_the_suffix_picks_the_format(tmp_path, suffix, magic):
    out = save_figure(plot_prescription(make_prescription()), tmp_path / f"tens.{suffix.upper()}")
    assert out.read_bytes().startswith(magic)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(  # burst TENS with an on/off cycle
            waveform=pulse_train(frequency_hz=100, pulses_per_burst=7, burst_frequency_hz=2),
            envelope={"on_s": 10, "off_s": 20, "ramp_up_s": 2},
        ),
        dict(  # interferential: two carriers with an offset and an amplitude sweep
            waveform=carrier(
                carrier_frequency_hz=4000,
                amplitude_modulation={
                    "parameter": "amplitude",
                    "shape": "sine",
                    "period_s": 2,
                    "low_fraction": 0.3,
                },
            ),
            channels=[channel_dict("A"), channel_dict("B", carrier_frequency_offset_hz=100)],
            modality="IFC",
        ),
        dict(  # HF-EMS sweep: the densest carrier the models allow
            waveform=carrier(
                shape="square",
                carrier_frequency_hz=4096,
                sweep={"stop_frequency_hz": 32768, "period_s": 0.05},
            ),
            modality="HF-EMS",
        ),
    ],
    ids=["burst-on-off", "ifc", "hf-ems"],
)
def test_plots_every_kind_of_waveform(tmp_path, kwargs):
    figure = plot_prescription(make_prescription(**kwargs), envelope_seconds=90)
    assert save_figure(figure, tmp_path / "w.png").read_bytes().startswith(PNG_MAGIC)


def test_unverified_and_even_blocked_prescriptions_can_be_plotted():
    """A plot is a view: it helps to see why something was blocked."""
    blocked = make_prescription(amplitude_ma=200, area_cm2=1)
    figure = plot_prescription(blocked, sample_rate_hz=50_000)
    assert "200 mA" in figure._suptitle.get_text()


def test_plot_draws_into_the_callers_axes_and_leaves_their_figure_alone():
    mine = Figure()
    axes = mine.subplots(1, 3)
    figure = plot_prescription(make_prescription(), ax=axes)
    assert figure is mine
    assert len(mine.axes) == 3 and all(ax.lines or ax.collections for ax in axes)
    assert mine._suptitle is None  # the caller's figure gets no title of ours
    one = Figure().subplots()
    assert plot_prescription(make_prescription(), ax=one, panels="envelope") is one.figure
    assert one.get_title().startswith("envelope")


def test_panels_pick_and_order_the_panels():
    figure = plot_prescription(make_prescription(), panels=("envelope", "pulse"))
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0].startswith("envelope") and titles[1].startswith("one pulse")
    assert set(PANELS) == {"pulse", "second", "envelope"}


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"panels": ("pulse", "spectrum")}, InputError, "panels"),
        ({"panels": ()}, InputError, "panels"),
        ({"ax": "axes"}, ArgumentTypeError, "ax"),
        ({"panels": ("pulse", "second")}, None, None),  # with two axes: fine
        ({"sample_rate_hz": 1_000}, InputError, "sample_rate_hz"),  # 100 µs phases need 20 kHz
        ({"envelope_seconds": 0}, InputError, "envelope_seconds"),
    ],
)
def test_bad_plot_requests_are_input_errors(kwargs, error, field):
    if error is None:
        two = Figure().subplots(2)
        assert isinstance(plot_prescription(make_prescription(), ax=two, **kwargs), Figure)
        return
    with pytest.raises(error) as caught:
        plot_prescription(make_prescription(), **kwargs)
    assert caught.value.problems[0].path == field


def test_a_wrong_number_of_axes_is_refused_naming_how_many_are_needed():
    with pytest.raises(InputError, match="3 axes, one per panel of plot_prescription"):
        plot_prescription(make_prescription(), ax=Figure().subplots(1, 2))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("tens.bmp", "a .png, .svg or .pdf file"), ("missing/tens.png", "existing directory")],
)
def test_the_save_helper_refuses_bad_paths_and_writes_nothing(tmp_path, name, expected):
    figure = plot_prescription(make_prescription(), panels="pulse")
    with pytest.raises(InputError, match=expected) as caught:
        save_figure(figure, tmp_path / name, field="--out")
    assert caught.value.problems[0].path == "--out"
    with pytest.raises(InputError, match=expected):
        check_figure_path(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_the_save_helper_refuses_what_is_not_a_figure(tmp_path):
    with pytest.raises(ArgumentTypeError, match="save_figure\\(\\) expects figure"):
        save_figure(tmp_path, tmp_path / "x.png")  # type: ignore[arg-type]


def test_a_failed_save_leaves_no_file_behind(tmp_path, monkeypatch):
    figure = plot_prescription(make_prescription(), panels="pulse")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        save_figure(figure, tmp_path / "p.png")
    assert list(tmp_path.iterdir()) == []


def test_importing_stimwise_and_its_plot_and_export_modules_does_not_import_matplotlib():
    code = (
        "import sys, stimwise, stimwise.waveform.plot, stimwise.export, stimwise.plotting;"
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


PLOT_CALLS = """
import sys
import numpy as np
import stimwise as sw
from stimwise.analysis.assessment import assess
from stimwise.analysis.cohort import simulate_cohort
from stimwise.analysis.plot import plot_response
from stimwise.physiology.plots_excitability import plot_strength_duration, plot_threshold_run
from stimwise.physiology.plots_population import plot_recruitment
from stimwise.physiology.recruitment import RecruitmentCurves
from stimwise.physiology.strength_duration import StrengthDuration, fit_lapicque, fit_weiss
import matplotlib
backend = dict.__getitem__(matplotlib.rcParams, "backend")  # get_backend() would import pyplot
widths = np.array([0.05, 0.1, 0.2, 0.5])
thresholds = 0.5 * (1 + 0.2 / widths)
sd = StrengthDuration(widths, thresholds, [], fit_weiss(widths, thresholds),
                      fit_lapicque(widths, thresholds), [])
person = simulate_cohort(1, seed=1)[0]
t = np.linspace(0, 2, 21); z = np.linspace(-5, 5, 11)
figures = [
    sw.plot_prescription(sw.load_protocol("burst-tens")),
    plot_strength_duration(sd),
    plot_threshold_run(t, np.zeros((21, 11)), z, 9),
    plot_recruitment(RecruitmentCurves(np.geomspace(1, 10, 5), {"abeta": np.ones(3)}), title="x"),
    plot_response(person.series, assess(person.series)),
]
from matplotlib.figure import Figure
print(all(isinstance(f, Figure) for f in figures))
print(dict.__getitem__(matplotlib.rcParams, "backend") == backend)
print("matplotlib.pyplot" in sys.modules)
"""


def test_every_plot_returns_a_figure_without_pyplot_or_a_backend_change():
    """Issue 13: one plot called ``matplotlib.use("Agg")``, which switched a notebook's backend;
    figures made with pyplot stay registered in its global list."""
    result = subprocess.run([sys.executable, "-c", PLOT_CALLS], capture_output=True, text=True)
    assert result.stdout.split() == ["True", "True", "False"], result.stderr


def test_no_source_file_selects_a_matplotlib_backend():
    from pathlib import Path

    import stimwise

    offenders = [
        str(path)
        for path in Path(stimwise.__file__).parent.rglob("*.py")
        if "matplotlib.use(" in path.read_text(encoding="utf-8")
        or "import matplotlib.pyplot" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_callers_axes_of_each_plot_are_used(tmp_path):
    import numpy as np

    from stimwise.physiology.plots_excitability import plot_threshold_run

    t = np.linspace(0, 2, 21)
    z = np.linspace(-5, 5, 11)
    mine = Figure()
    top, bottom = mine.subplots(2)
    assert plot_threshold_run(t, np.zeros((21, 11)), z, 9, ax=[top, bottom]) is mine
    assert isinstance(top, Axes) and bottom.get_xlabel() == "time (ms)"
