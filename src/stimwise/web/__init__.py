"""The clinic and home web application (FastAPI): pages for clinicians and patients and the
REST API under ``/api/v1``. A thin shell over :mod:`stimwise.records` and the other packages:
access rules are enforced by the services and the records layer, never only by the templates."""

from stimwise._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "create_app": ".app",
    },
)
