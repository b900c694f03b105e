"""Response analysis: per-person verdicts, n-of-1 trials, next-dose tuning, population summaries
and synthetic cohorts with a known truth (see ``docs/analysis.md``)."""

from stimwise._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ResponseAssessment": ".assessment",
        "assess": ".assessment",
        "simulate_cohort": ".cohort",
        "plot_response": ".plot",
    },
)
