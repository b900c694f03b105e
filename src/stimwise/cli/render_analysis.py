"""Rich rendering of response assessments, population summaries and n-of-1 results."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

CATEGORY_STYLE = {
    "substantial": "bold green", "moderate": "green", "non_responder": "red",
    "faded": "yellow", "borderline": "yellow", "not_enough_data": "dim",
}


def _interval(pair, scale: float = 1.0, unit: str = "") -> str:
    if pair is None:
        return "–"
    return f"{scale * pair[0]:.3g}–{scale * pair[1]:.3g}{unit}"


def print_assessment(console: Console, series, assessment, proposal: dict | None) -> None:
    verdict = assessment.verdict
    style = CATEGORY_STYLE[verdict.category]
    if len(series.sessions):
        console.print(f"[bold]{series.patient_id}[/]: therapy since {series.therapy_start}, "
                      f"analysed as of day {series.as_of_day}")
    else:
        console.print(f"[bold]{series.patient_id}[/]: no session on record yet")
    console.print(f"verdict: [{style}]{verdict.label}[/]")
    for reason in verdict.reasons:
        console.print(f"  · {reason}")
    relief = assessment.relief
    if relief.mean_relief_nrs is not None:
        persistence = (
            "–" if relief.persistence_fraction is None
            else f"{100 * relief.persistence_fraction:.0f} %"
        )
        console.print(
            f"within-session relief: {relief.mean_relief_nrs:.1f} points "
            f"(90 % CI {_interval(relief.relief_interval_nrs)}) over "
            f"{relief.answered_sessions} sessions; {100 * relief.share_meaningful:.0f} % of "
            f"sessions meaningful; persisting in the diary: {persistence}"
        )
    doses = assessment.dose_response
    adherence = doses.adherence
    share = (
        "" if adherence.share_of_prescribed is None
        else f" ({100 * adherence.share_of_prescribed:.0f} % of prescribed)"
    )
    console.print(f"adherence: {adherence.sessions} sessions, "
                  f"{adherence.sessions_per_week:.1f}/week{share}, "
                  f"{adherence.minutes_per_week:.0f} min/week")
    if not len(series.sessions):
        _print_suggestion(console, proposal)
        return
    table = Table(title="relief against delivered dose (least squares per parameter)")
    for column in ("parameter", "range", "relief per unit", "p"):
        table.add_column(column)
    for effect in doses.effects:
        fit = effect.fit
        known = math.isfinite(effect.low) and math.isfinite(effect.high)
        table.add_row(
            effect.parameter,
            f"{effect.low:.4g}–{effect.high:.4g}" if known else "not known",
            ("not known (no session recorded it)" if not known
             else "did not vary" if fit is None
             else f"{fit.slope:+.3g} ± {fit.slope_se:.2g}"),
            "" if fit is None else f"{fit.p_two_sided:.2g}",
        )
    console.print(table)
    console.print(f"habituation: {doses.habituation.explanation}")
    _print_suggestion(console, proposal)


def _print_suggestion(console: Console, proposal: dict | None) -> None:
    if proposal is not None:
        if proposal.get("status") == "none":
            console.print(f"dose suggestion: none — {proposal['reason']}")
        else:
            dose = ", ".join(f"{k} {v:.4g}" for k, v in proposal["dose"].items())
            console.print(
                f"dose suggestion ([bold]needs a clinician's acceptance[/]): {dose}; expected "
                f"relief {proposal['expected_relief_nrs']:.1f} ± {proposal['relief_sd_nrs']:.1f}"
                f" points; safety verdict {proposal['verdict']}"
            )


def print_population(console: Console, summary) -> None:
    if not summary.patients:
        console.print("no patients in these records")
        return
    console.print(f"{summary.patients} patients, {summary.assessable} with enough data; "
                  f"{summary.sessions} sessions")
    for name, rate in (("responders (≥ 30 % and ≥ 2 points)", summary.responders),
                       ("substantial (≥ 50 % and ≥ 2 points)", summary.substantial_responders)):
        value = "–" if rate.rate is None else f"{100 * rate.rate:.1f} %"
        console.print(f"{name}: {rate.count}/{rate.total} = {value} (95 % Wilson "
                      f"{_interval(rate.wilson_95, 100, ' %')}, Clopper–Pearson "
                      f"{_interval(rate.clopper_pearson_95, 100, ' %')})")
    console.print("categories: " + ", ".join(f"{k} {v}" for k, v in summary.categories.items()))
    if summary.adherence_median is not None:
        console.print(f"adherence: median {100 * summary.adherence_median:.0f} % of prescribed "
                      f"sessions (IQR {_interval(summary.adherence_quartiles, 100, ' %')})")
    if summary.adverse_events_per_100_sessions is not None:
        console.print(f"adverse events: {summary.adverse_events}, "
                      f"{summary.adverse_events_per_100_sessions:.2f} per 100 sessions (95 % "
                      f"{_interval(summary.adverse_events_per_100_sessions_95)})")


def print_nof1(console: Console, result) -> None:
    table = Table(title=f"n-of-1: A = {result.treatment_a}, B = {result.treatment_b}")
    for column in ("pair", "mean A", "mean B", "days A/B", "B − A"):
        table.add_column(column)
    for block in result.blocks:
        table.add_row(
            str(block.pair),
            "–" if block.mean_a_nrs is None else f"{block.mean_a_nrs:.2f}",
            "–" if block.mean_b_nrs is None else f"{block.mean_b_nrs:.2f}",
            f"{block.days_a}/{block.days_b}",
            "–" if block.difference_nrs is None else f"{block.difference_nrs:+.2f}",
        )
    console.print(table)
    if result.enough_data:
        console.print(
            f"posterior difference (B − A) {result.posterior_mean_nrs:+.2f} points, 90 % "
            f"credible interval {_interval(result.credible_interval_90_nrs)}; "
            f"P(A better) = {result.p_a_better:.2f}; P(A better by ≥ "
            f"{result.minimal_important_difference_nrs:g}) = {result.p_a_better_by_mid:.2f}; "
            f"P(B better by ≥ {result.minimal_important_difference_nrs:g}) = "
            f"{result.p_b_better_by_mid:.2f}"
        )
    console.print(f"[bold]{result.verdict}[/]")
