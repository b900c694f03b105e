"""Response analysis: per-person verdicts, n-of-1 trials, next-dose tuning, population summaries
and synthetic cohorts with a known truth (see ``docs/analysis.md``)."""
