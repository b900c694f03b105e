"""Rich rendering of screenings and recommendations for people."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from stimwise.cli.render import DISCLAIMER
from stimwise.clinical.models import RecommendationReport
from stimwise.clinical.screening import Screening
from stimwise.clinical.texts import clinician_text, patient_text
from stimwise.protocol.body_sites import SITE_NAMES, region_group, side_of

DECISION_STYLE = {
    "eligible": "bold green",
    "eligible_with_precautions": "bold yellow",
    "needs_specialist_clearance": "bold magenta",
    "not_eligible": "bold red",
}


def site_map(screening: Screening, allodynic: frozenset[str] = frozenset()) -> Table:
    """Each body region by side: forbidden, level-capped and allodynic sites."""
    table = Table(title="site map (forbidden ✗, level cap ≤, allodynia ⚡)")
    for column in ("region", "left", "midline", "right"):
        table.add_column(column, overflow="fold")
    regions = sorted({region_group(s) for s in SITE_NAMES})
    for region in regions:
        cells = []
        for side in ("left", "midline", "right"):
            sites = sorted(
                s for s in SITE_NAMES if region_group(s) == region and side_of(s) == side
            )
            marks = [_mark(site, side, screening, allodynic) for site in sites]
            shown = [m for m in marks if m]
            cells.append(", ".join(shown) if shown else ("[green]allowed[/]" if sites else "—"))
        table.add_row(region, *cells)
    return table


def _mark(site: str, side: str, screening: Screening, allodynic: frozenset[str]) -> str:
    short = site.removeprefix(f"{side}_")
    symbols = ""
    if site in screening.forbidden_sites:
        symbols += "✗"
    elif site in screening.site_max_level:
        symbols += f"≤{screening.site_max_level[site]} "
    if site in allodynic:
        symbols += "⚡"
    if not symbols:
        return ""
    colour = "red" if site in screening.forbidden_sites else "yellow"
    return f"[{colour}]{symbols.strip()} {short}[/]"


def print_screening(
    console: Console, screening: Screening, allodynic: frozenset[str] = frozenset()
) -> None:
    style = DECISION_STYLE[screening.decision]
    console.print(
        Panel(
            clinician_text(screening),
            title=f"[{style}]{screening.decision.replace('_', ' ').upper()}[/]",
            subtitle="for the clinician",
        )
    )
    console.print(site_map(screening, allodynic))
    console.print(Panel(patient_text(screening), title="for the patient"))
    console.print(f"[dim]{DISCLAIMER}[/]")


def print_recommendations(console: Console, report: RecommendationReport) -> None:
    style = DECISION_STYLE.get(report.screening_decision, "bold")
    console.print(
        f"Recommendations for {report.patient_id} "
        f"(screening: [{style}]{report.screening_decision.replace('_', ' ')}[/])"
    )
    for note in report.notes:
        console.print(f"[yellow]{note}[/]")
    for r in report.recommendations:
        sites = "; ".join(
            f"{ch.label}: {ch.sites_text}"
            for ch in r.placement.channels
        )
        body = [
            f"[bold]score[/] {r.score:g}   [bold]evidence[/] {r.evidence.grade}   "
            f"[bold]safety[/] {r.safety_verdict}   "
            f"[bold]home use[/] {'allowed' if r.home_use_allowed else 'clinic only'}",
            f"[bold]placement[/] {sites}",
            f"[bold]intensity[/] {r.intensity.level}, cap {r.intensity.max_amplitude_ma:g} mA"
            + (" — supervised first session" if r.intensity.supervised_first_session else ""),
            f"  {r.intensity.titration}",
            f"[bold]schedule[/] {r.schedule.session_duration_min:g} min, "
            f"{r.schedule.sessions_per_day}×/day, {r.schedule.sessions_per_week}×/week",
            f"  {r.schedule.review}",
            "[bold]why[/]",
            *(f"  • {line}" for line in r.rationale),
            "[bold]sources[/] " + "; ".join(
                f"{c.source} [{c.confidence}]" for c in r.evidence.sources
            ),
            "[bold]monitor[/]",
            *(f"  • {item}" for item in r.monitoring),
        ]
        if r.safety_notes:
            body += ["[bold]safety notes[/]", *(f"  • {n}" for n in r.safety_notes)]
        if r.placement.rejected_alternatives:
            body += ["[dim]placements refused:[/]",
                     *(f"  [dim]• {n}[/]" for n in r.placement.rejected_alternatives)]
        console.print(
            Panel("\n".join(body), title=f"#{r.rank} {r.protocol_name} ({r.protocol_id})",
                  subtitle=(r.condition or "goal").replace("_", " "))
        )
    if report.not_recommended:
        table = Table(title="not recommended")
        table.add_column("protocol")
        table.add_column("for")
        table.add_column("why", overflow="fold")
        for n in report.not_recommended:
            table.add_row(n.protocol_id, (n.condition or "goals").replace("_", " "),
                          "; ".join(n.reasons))
        console.print(table)
    console.print(f"[dim]{DISCLAIMER} Suggestions support a clinician's decision; none "
                  "promises relief.[/]")
