"""Validate stimwise's fibre thresholds against NEURON/PyFibers, both computed in one run.

Grid (issue 5, reference ``shared/reference/fibre-model-validation.md`` §4, §9): MRG fibres
(MRG-interpolation geometry) of 5.7–14 µm, 40 mm, one passive end node each side, 37 °C, a point
source in a homogeneous medium (σ = 0.2 S/m) 1 and 2 mm above the middle node; monophasic cathodic
pulses and symmetric biphasic pulses (cathodic first, no gap, pw per phase) of 0.05–1 ms starting at
0.1 ms; plus one unmyelinated C fibre (Sundt, 1 µm, 6 mm, 0.5 ms, 35 ms run). Both tools integrate
with backward Euler at dt = 1 µs, detect activation as an upward −30 mV crossing at node
⌊0.9·(n−1)⌋ and stop at a 0.1 % bracket.

Output: one JSON document on stdout (and in ``--out``): per grid point both thresholds, the relative
error, the wall time per threshold of each tool (PyFibers per search, stimwise amortised over its
batch) and PyFibers' simulation count; then a summary with the median and max |error| (MRG and C
separately), the speed ratio for a 100-threshold stimwise batch against PyFibers' median search
time, and the cost per section per step of NEURON alone, of PyFibers and of stimwise.

Run: ``.venv/bin/python benchmarks/validate_neuron.py --grid quick`` (19 searches, 45 min measured
on the shared 2-core machine under load); ``--grid full`` is 101 searches (≈1.5 h with one
worker, estimated from the per-search times). Needs the ``[validation]`` extra
(``pip install -e ".[validation]"`` then ``pyfibers_compile``) unless ``--stimwise-only``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import neuron_reference as ref  # sibling module, found through the line above

log = logging.getLogger("validate_neuron")

MRG_DIAMETERS_UM = (5.7, 8.7, 10.0, 12.0, 14.0)
DISTANCES_MM = (1.0, 2.0)
PULSE_WIDTHS_MS = (0.05, 0.1, 0.2, 0.5, 1.0)
WAVEFORMS = ("monophasic", "biphasic")
QUICK_MRG_DIAMETERS_UM = (5.7, 10.0, 14.0)
QUICK_PULSE_WIDTHS_MS = (0.05, 0.2, 1.0)
C_POINT = {
    "fiber": "c",
    "diameter_um": 1.0,
    "distance_mm": 1.0,
    "waveform": "monophasic",
    "pulse_width_ms": 0.5,
}
LENGTH_MM = {"mrg": ref.FAMILY["mrg"]["length_um"] / 1000, "c": ref.FAMILY["c"]["length_um"] / 1000}
REL_TOL = ref.TOLERANCE_PERCENT / 100
SPEED_BATCH_DIAMETERS_UM = tuple(5.7 + i * (14.0 - 5.7) / 24 for i in range(25))
SPEED_BATCH_DISTANCES_MM = (1.0, 1.25, 1.5, 2.0)
SPEED_BATCH_PULSE = ("monophasic", 0.1)
TARGET_MEDIAN_ERROR = 0.01
TARGET_MAX_ERROR = 0.03
TARGET_SPEEDUP = 50.0
STRETCH_SPEEDUP = 500.0


def build_grid(name: str) -> list[dict[str, Any]]:
    """Grid points for ``quick`` or ``full``; the C-fibre point comes first (longest search)."""
    if name == "full":
        diameters, distances, widths = MRG_DIAMETERS_UM, DISTANCES_MM, PULSE_WIDTHS_MS
    elif name == "quick":
        diameters, distances, widths = QUICK_MRG_DIAMETERS_UM, (1.0,), QUICK_PULSE_WIDTHS_MS
    else:
        raise ValueError(f"grid must be 'quick' or 'full', got {name!r}")
    points = [dict(C_POINT)]
    for diameter in diameters:
        for distance in distances:
            for waveform in WAVEFORMS:
                for width in widths:
                    points.append(
                        {
                            "fiber": "mrg",
                            "diameter_um": diameter,
                            "distance_mm": distance,
                            "waveform": waveform,
                            "pulse_width_ms": width,
                        }
                    )
    return points


def point_key(point: dict[str, Any]) -> tuple:
    """Identity of a grid point, to match rows from different runs or tools."""
    return (
        point["fiber"],
        round(point["diameter_um"], 6),
        round(point["distance_mm"], 6),
        point["waveform"],
        round(point["pulse_width_ms"], 6),
    )


def relative_error(stimwise_ma: float | None, neuron_ma: float | None) -> float | None:
    """``stimwise / neuron − 1``; ``None`` when either is missing or not a positive number."""
    if stimwise_ma is None or neuron_ma is None:
        return None
    if not (math.isfinite(stimwise_ma) and math.isfinite(neuron_ma)) or neuron_ma <= 0:
        return None
    return stimwise_ma / neuron_ma - 1.0


def brackets_overlap(neuron: list, stimwise: list) -> bool | None:
    """Whether the two tools' final brackets [lower, upper] (mA) share a point.

    Each bracket holds its tool's threshold, so overlapping brackets mean the two thresholds are
    indistinguishable at the search resolution; ``None`` when either bracket is incomplete.
    """
    if None in (*neuron, *stimwise):
        return None
    return max(neuron[0], stimwise[0]) <= min(neuron[1], stimwise[1])


def error_stats(rows: list[dict[str, Any]], fiber: str) -> dict[str, Any]:
    """Median and max |relative error| over the rows of one fibre family that have both values.

    Rows where stimwise found no threshold although NEURON did count as failures (reported,
    and they make the family fail its target).
    """
    family = [r for r in rows if r["fiber"] == fiber]
    errors = [abs(r["relative_error"]) for r in family if r.get("relative_error") is not None]
    missing = [
        r for r in family
        if r.get("stimwise_ran") and r.get("threshold_neuron_ma") is not None
        and r.get("threshold_stimwise_ma") is None
    ]
    overlaps = [r.get("brackets_overlap") for r in family if r.get("brackets_overlap") is not None]
    stats: dict[str, Any] = {
        "n_compared": len(errors),
        "n_stimwise_missing": len(missing),
        "n_brackets_overlap": sum(overlaps),
    }
    if errors:
        stats["median_abs_error"] = statistics.median(errors)
        stats["max_abs_error"] = max(errors)
        stats["meets_target"] = (
            stats["median_abs_error"] <= TARGET_MEDIAN_ERROR
            and stats["max_abs_error"] <= TARGET_MAX_ERROR
            and not missing
        )
    return stats


def speed_summary(
    neuron_seconds: list[float],
    stimwise_batch: dict[str, Any] | None,
    neuron_cpu_seconds: list[float] | None = None,
) -> dict[str, Any]:
    """Speed ratio of PyFibers' median search time to stimwise's amortised batch time.

    The wall-time ratio is the figure the issue asks for; the CPU-time ratio (all threads of
    each process) is given next to it because wall times on a shared machine swing with load.
    """
    out: dict[str, Any] = {}
    if neuron_seconds:
        out["pyfibers_median_s_per_threshold"] = statistics.median(neuron_seconds)
    if stimwise_batch:
        out["stimwise_s_per_threshold_batch"] = stimwise_batch["s_per_threshold"]
        out["stimwise_batch_size"] = stimwise_batch["n_thresholds"]
    if neuron_seconds and stimwise_batch and stimwise_batch["s_per_threshold"] > 0:
        ratio = out["pyfibers_median_s_per_threshold"] / stimwise_batch["s_per_threshold"]
        out["speed_ratio"] = ratio
        out["meets_50x"] = ratio >= TARGET_SPEEDUP
        out["fraction_of_500x"] = ratio / STRETCH_SPEEDUP
        out["factor_missing_to_500x"] = max(1.0, STRETCH_SPEEDUP / ratio)
    stimwise_cpu = (stimwise_batch or {}).get("cpu_s_per_threshold")
    if neuron_cpu_seconds and stimwise_cpu:
        out["pyfibers_median_cpu_s_per_threshold"] = statistics.median(neuron_cpu_seconds)
        out["stimwise_cpu_s_per_threshold_batch"] = stimwise_cpu
        out["speed_ratio_cpu"] = out["pyfibers_median_cpu_s_per_threshold"] / stimwise_cpu
    return out


def summarize(
    rows: list[dict[str, Any]],
    stimwise_batch: dict[str, Any] | None,
    neuron_step: dict[str, Any] | None,
) -> dict[str, Any]:
    """The summary block: accuracy per family, speed ratio and per-section-step costs."""
    mrg_neuron_s = [
        r["neuron_s_per_threshold"] for r in rows
        if r["fiber"] == "mrg" and r.get("neuron_s_per_threshold") is not None
    ]
    mrg_neuron_cpu = [
        r["neuron_cpu_s_per_threshold"] for r in rows
        if r["fiber"] == "mrg" and r.get("neuron_cpu_s_per_threshold") is not None
    ]
    c_neuron_s = [
        r["neuron_s_per_threshold"] for r in rows
        if r["fiber"] == "c" and r.get("neuron_s_per_threshold") is not None
    ]
    pyfibers_steps = [
        (
            r["neuron_s_per_threshold"],
            r.get("neuron_cpu_s_per_threshold"),
            r["neuron_section_steps"],
        )
        for r in rows
        if r.get("neuron_section_steps")
    ]
    summary: dict[str, Any] = {
        "accuracy": {"mrg": error_stats(rows, "mrg"), "c": error_stats(rows, "c")},
        "targets": {
            "median_abs_error": TARGET_MEDIAN_ERROR,
            "max_abs_error": TARGET_MAX_ERROR,
            "speed_ratio": TARGET_SPEEDUP,
        },
        "speed_mrg": speed_summary(mrg_neuron_s, stimwise_batch, mrg_neuron_cpu),
        "pyfibers_c_s_per_threshold": statistics.median(c_neuron_s) if c_neuron_s else None,
        "non_central_initiation": [
            point_key(r) for r in rows if r.get("neuron_central_initiation") is False
        ],
        "per_section_step_us": {
            "neuron_alone": neuron_step["us_per_section_step"] if neuron_step else None,
            "neuron_alone_cpu": neuron_step.get("cpu_us_per_section_step") if neuron_step else None,
            "pyfibers_loop": _per_section_step_us([(s, n) for s, _, n in pyfibers_steps]),
            "pyfibers_loop_cpu": _per_section_step_us([(c, n) for _, c, n in pyfibers_steps]),
            "stimwise": stimwise_batch.get("us_per_section_step") if stimwise_batch else None,
            "stimwise_cpu": (
                stimwise_batch.get("cpu_us_per_section_step") if stimwise_batch else None
            ),
        },
    }
    return summary


def _per_section_step_us(pairs: list[tuple[float | None, float]]) -> float | None:
    """Total seconds over total section-steps, in µs; ``None`` without complete data."""
    if not pairs or any(seconds is None for seconds, _ in pairs):
        return None
    return sum(s for s, _ in pairs) / sum(n for _, n in pairs) * 1e6


# ----------------------------------------------------------------------------- stimwise side


def _stimwise_fiber_and_ve(point: dict[str, Any]):
    from stimwise.physiology.conductors import PointSource
    from stimwise.physiology.fibers import build_fiber
    from stimwise.physiology.geometry import straight_fiber_points_mm

    fiber = build_fiber(
        point["fiber"],
        diameter_um=point["diameter_um"],
        length_mm=LENGTH_MM[point["fiber"]],
        temperature_c=37.0,
    )
    source = PointSource(
        conductivity_s_per_m=ref.SIGMA_S_PER_M, position_mm=(0.0, 0.0, point["distance_mm"])
    )
    points = straight_fiber_points_mm(fiber, origin_mm=(0.0, 0.0, 0.0), direction=(1.0, 0.0, 0.0))
    return fiber, source.potential_mv_per_ma(points)


def _stimwise_stimulus(fiber: str, waveform: str, width_ms: float):
    from stimwise.physiology.stimulus import Stimulus

    return Stimulus.pulse(
        waveform,
        pulse_width_ms=width_ms,
        dt_ms=ref.DT_MS,
        delay_ms=ref.PULSE_START_MS,
        duration_ms=ref.FAMILY[fiber]["tstop_ms"],
    )


def stimulus_matches_reference(samples, waveform: str, width_ms: float) -> bool:
    """Whether stimwise's samples are the reference waveform (cathodic = −1) step for step."""
    import numpy as np

    expected = -ref.sampled_waveform(waveform, width_ms, len(samples) * ref.DT_MS)
    return len(expected) == len(samples) and bool(np.allclose(samples, expected))


def stimwise_thresholds(
    points: list[dict[str, Any]],
) -> tuple[dict[tuple, dict[str, Any]], dict[str, Any]]:
    """stimwise thresholds for the grid, one batch per (fibre family, waveform, pulse width)."""
    from stimwise.physiology.threshold import find_thresholds

    started = time.perf_counter()
    _warm_up()
    warmup_s = time.perf_counter() - started
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for point in points:
        groups.setdefault((point["fiber"], point["waveform"], point["pulse_width_ms"]), []).append(
            point
        )
    results: dict[tuple, dict[str, Any]] = {}
    for (fiber_name, waveform, width), members in groups.items():
        built = [_stimwise_fiber_and_ve(p) for p in members]
        stim = _stimwise_stimulus(fiber_name, waveform, width)
        matches = stimulus_matches_reference(stim.samples, waveform, width)
        t0, cpu0 = time.perf_counter(), time.process_time()
        try:
            res = find_thresholds(
                [f for f, _ in built], [v for _, v in built], stim, rel_tol=REL_TOL
            )
        except Exception as exc:  # reported in the rows (and failing the target), not fatal
            for point in members:
                results[point_key(point)] = {"error": f"{type(exc).__name__}: {exc}"}
            log.warning("stimwise %s %s %.3g ms failed: %s", fiber_name, waveform, width, exc)
            continue
        per = (time.perf_counter() - t0) / len(members)
        cpu_per = (time.process_time() - cpu0) / len(members)
        for i, point in enumerate(members):
            results[point_key(point)] = {
                "threshold_ma": _finite_or_none(res.threshold_ma[i]),
                "lower_ma": _finite_or_none(res.lower_ma[i]),
                "upper_ma": _finite_or_none(res.upper_ma[i]),
                "s_per_threshold": per,
                "cpu_s_per_threshold": cpu_per,
                "batch_size": len(members),
                "simulations": int(res.n_simulations[i]),
                "ap_time_ms": _finite_or_none(res.ap_time_ms[i]),
                "initiation_offset_nodes": int(res.initiation_node[i]) - built[i][0].n_nodes // 2,
                "warnings": res.warnings[i] if res.warnings else [],
                "stimulus_matches_reference": matches,
            }
        log.info("stimwise %s %s %.3g ms: %d thresholds, %.3f s each", fiber_name, waveform,
                 width, len(members), per)
    return results, {"jit_warmup_s": warmup_s}


def _finite_or_none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _warm_up() -> None:
    """Compile the kernels once (a short, coarse MRG search) so no batch timing includes JIT."""
    from stimwise.physiology.stimulus import Stimulus
    from stimwise.physiology.threshold import find_thresholds

    fiber, ve = _stimwise_fiber_and_ve({"fiber": "mrg", "diameter_um": 10.0, "distance_mm": 1.0})
    stim = Stimulus.pulse("monophasic", pulse_width_ms=0.1, dt_ms=ref.DT_MS,
                          delay_ms=ref.PULSE_START_MS, duration_ms=1.0)
    find_thresholds([fiber], [ve], stim, rel_tol=0.05)


def stimwise_speed_batch() -> dict[str, Any]:
    """Wall time of one 100-threshold MRG batch (25 diameters × 4 distances, one process)."""
    from stimwise.physiology.threshold import find_thresholds

    points = [
        {"fiber": "mrg", "diameter_um": d, "distance_mm": x}
        for d in SPEED_BATCH_DIAMETERS_UM
        for x in SPEED_BATCH_DISTANCES_MM
    ]
    built = [_stimwise_fiber_and_ve(p) for p in points]
    waveform, width = SPEED_BATCH_PULSE
    stim = _stimwise_stimulus("mrg", waveform, width)
    t0, cpu0 = time.perf_counter(), time.process_time()
    res = find_thresholds([f for f, _ in built], [v for _, v in built], stim, rel_tol=REL_TOL)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0
    out: dict[str, Any] = {
        "n_thresholds": len(points),
        "waveform": waveform,
        "pulse_width_ms": width,
        "seconds": seconds,
        "s_per_threshold": seconds / len(points),
        "cpu_s_per_threshold": cpu_seconds / len(points),
        "n_found": int(sum(math.isfinite(float(t)) for t in res.threshold_ma)),
        "numba_threads": _numba_threads(),
    }
    out["section_steps"] = int(res.section_steps)
    out["us_per_section_step"] = seconds / res.section_steps * 1e6
    out["cpu_us_per_section_step"] = cpu_seconds / res.section_steps * 1e6
    return out


def _numba_threads() -> int | None:
    try:
        import numba
    except ImportError:
        return None
    return int(numba.get_num_threads())


# ----------------------------------------------------------------------------- NEURON side


def run_neuron(
    points: list[dict[str, Any]], workers: int, on_row
) -> tuple[dict[tuple, dict[str, Any]], dict[str, Any]]:
    """PyFibers searches in fresh spawned processes (one per search, so no stale sections)."""
    context = get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
        step_cost = pool.submit(ref.neuron_step_cost).result()
    log.info("NEURON alone: %.3f µs per section-step", step_cost["us_per_section_step"])
    on_row({}, step_cost)
    results: dict[tuple, dict[str, Any]] = {}
    with ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1) as pool:
        futures = {pool.submit(ref.neuron_threshold, p): p for p in points}
        for future in as_completed(futures):
            point = futures[future]
            try:
                results[point_key(point)] = future.result()
            except Exception as exc:  # a failed search is reported in its row, not fatal
                results[point_key(point)] = {"error": f"{type(exc).__name__}: {exc}"}
            log.info("NEURON %s: %s", point_key(point), results[point_key(point)].get(
                "threshold_ma", results[point_key(point)].get("error")))
            on_row(results, step_cost)
    return results, step_cost


# ----------------------------------------------------------------------------- assembly


def make_row(
    point: dict[str, Any], neuron: dict[str, Any] | None, stimwise: dict[str, Any] | None
) -> dict[str, Any]:
    """One output row: both thresholds, the relative error and each tool's cost."""
    neuron = neuron or {}
    stimwise = stimwise or {}
    row = dict(point)
    row.update(
        {
            "threshold_neuron_ma": neuron.get("threshold_ma"),
            "threshold_stimwise_ma": stimwise.get("threshold_ma"),
            "relative_error": relative_error(
                stimwise.get("threshold_ma"), neuron.get("threshold_ma")
            ),
            "neuron_s_per_threshold": neuron.get("seconds"),
            "stimwise_s_per_threshold": stimwise.get("s_per_threshold"),
            "neuron_cpu_s_per_threshold": neuron.get("cpu_seconds"),
            "stimwise_cpu_s_per_threshold": stimwise.get("cpu_s_per_threshold"),
            "neuron_simulations": neuron.get("simulations"),
            "stimwise_simulations": stimwise.get("simulations"),
            "neuron_bracket_ma": [neuron.get("lower_ma"), neuron.get("upper_ma")],
            "stimwise_bracket_ma": [stimwise.get("lower_ma"), stimwise.get("upper_ma")],
            "brackets_overlap": brackets_overlap(
                [neuron.get("lower_ma"), neuron.get("upper_ma")],
                [stimwise.get("lower_ma"), stimwise.get("upper_ma")],
            ),
            "neuron_ap_time_ms": neuron.get("ap_time_ms"),
            "stimwise_ap_time_ms": stimwise.get("ap_time_ms"),
            "neuron_central_initiation": neuron.get("central_initiation"),
            "neuron_initiation_offsets_nodes": neuron.get("initiation_offsets_nodes"),
            "neuron_top_bound_ma": neuron.get("top_bound_ma"),
            "neuron_section_steps": neuron.get("section_steps"),
            "stimwise_ran": bool(stimwise),
            "stimwise_initiation_offset_nodes": stimwise.get("initiation_offset_nodes"),
            "stimwise_stimulus_matches_reference": stimwise.get("stimulus_matches_reference"),
        }
    )
    if neuron.get("error"):
        row["neuron_error"] = neuron["error"]
    if stimwise.get("error"):
        row["stimwise_error"] = stimwise["error"]
    if neuron.get("warnings"):
        row["neuron_warnings"] = neuron["warnings"]
    if stimwise.get("warnings"):
        row["stimwise_warnings"] = stimwise["warnings"]
    return row


def machine_info() -> dict[str, Any]:
    """Where the figures were measured (CPU model, cores, load, versions)."""
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "logical_cpus": os.cpu_count(),
        "load_average_1_5_15": list(os.getloadavg()),
        "python": platform.python_version(),
    }


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("stimwise", "numpy", "numba", "neuron", "pyfibers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--grid", choices=("quick", "full"), default="quick")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes for the NEURON searches (default 1)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--stimwise-only", action="store_true")
    only.add_argument("--neuron-only", action="store_true")
    parser.add_argument("--neuron-from", type=Path, default=None,
                        help="reuse NEURON rows from an earlier --out file instead of rerunning")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    return args


def load_neuron_rows(path: Path) -> dict[tuple, dict[str, Any]]:
    """NEURON results of an earlier run, keyed by grid point."""
    document = json.loads(path.read_text())
    out = {}
    for row in document["rows"]:
        if row.get("threshold_neuron_ma") is None:
            continue
        out[point_key(row)] = {
            "threshold_ma": row["threshold_neuron_ma"],
            "lower_ma": row["neuron_bracket_ma"][0],
            "upper_ma": row["neuron_bracket_ma"][1],
            "seconds": row["neuron_s_per_threshold"],
            "cpu_seconds": row["neuron_cpu_s_per_threshold"],
            "simulations": row["neuron_simulations"],
            "ap_time_ms": row["neuron_ap_time_ms"],
            "central_initiation": row["neuron_central_initiation"],
            "initiation_offsets_nodes": row["neuron_initiation_offsets_nodes"],
            "top_bound_ma": row["neuron_top_bound_ma"],
            "section_steps": row["neuron_section_steps"],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_neuron_side = not args.stimwise_only and args.neuron_from is None
    if run_neuron_side:
        why = ref.missing_extra_reason()
        if why:
            print(ref.MISSING_EXTRA_MESSAGE.format(why=why), file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    started = time.perf_counter()
    points = build_grid(args.grid)
    document: dict[str, Any] = {
        "command": " ".join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)]),
        "grid": args.grid,
        "machine": machine_info(),
        "versions": _versions(),
        "setup": {
            "dt_ms": ref.DT_MS, "pulse_start_ms": ref.PULSE_START_MS,
            "conductivity_s_per_m": ref.SIGMA_S_PER_M, "rel_tol": REL_TOL,
            "temperature_c": 37.0, "length_mm": LENGTH_MM,
            "tstop_ms": {k: v["tstop_ms"] for k, v in ref.FAMILY.items()},
            "neuron_workers": args.workers,
        },
    }

    stimwise: dict[tuple, dict[str, Any]] = {}
    stimwise_batch = None
    if not args.neuron_only:
        stimwise, document["stimwise_timing"] = stimwise_thresholds(points)
        stimwise_batch = stimwise_speed_batch()
        document["stimwise_speed_batch"] = stimwise_batch
        for point in points:
            estimate = stimwise[point_key(point)]["threshold_ma"]
            if estimate is not None:
                point["estimate_ma"] = estimate

    def emit(neuron: dict[tuple, dict[str, Any]], step_cost, complete: bool) -> None:
        rows = [
            make_row(p, neuron.get(point_key(p)), stimwise.get(point_key(p))) for p in points
        ]
        for row in rows:
            row.pop("estimate_ma", None)
        document["rows"] = rows
        document["summary"] = summarize(rows, stimwise_batch, step_cost)
        document["complete"] = complete
        document["wall_s"] = time.perf_counter() - started
        if args.out:
            args.out.write_text(json.dumps(document, indent=1))

    neuron: dict[tuple, dict[str, Any]] = {}
    step_cost = None
    if args.neuron_from is not None:
        neuron = load_neuron_rows(args.neuron_from)
    elif run_neuron_side:
        neuron, step_cost = run_neuron(
            points, args.workers, lambda partial, cost: emit(partial, cost, False)
        )
    document["machine"]["load_average_end"] = list(os.getloadavg())
    emit(neuron, step_cost, True)
    json.dump(document, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
