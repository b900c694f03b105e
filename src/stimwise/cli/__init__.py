"""The ``stimwise`` command: a thin shell over the packages, with no domain logic."""

from stimwise._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "app": ".main",
    },
)
