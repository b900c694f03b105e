"""Session runtime: state machine, interlocks, calibration, crash-safe journal and record."""

from stimwise._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Journal": ".journal",
        "read_journal": ".journal",
        "Responder": ".prompts",
        "ScriptedResponder": ".prompts",
        "SessionRecord": ".record",
        "SessionRunner": ".runtime",
        "SessionSettings": ".limits",
        "Snapshot": ".runtime",
        "run_session": ".scripted",
    },
)
