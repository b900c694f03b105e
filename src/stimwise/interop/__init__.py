"""Interoperability: a person's record as a FHIR R4 Bundle (export and import) and as CSV files.

* :mod:`stimwise.interop.fhir_export` — the record → a validated FHIR Bundle (type ``collection``);
* :mod:`stimwise.interop.fhir_import` — such a Bundle → the record, in one transaction,
  idempotent by resource identifiers;
* :mod:`stimwise.interop.csv_export` — the record → CSV files in a zip;
* :mod:`stimwise.interop.fhir_codes` — every code system, code and unit used, with its source;
* :mod:`stimwise.interop.record_keys` — the stable identifiers of records across databases;
* :mod:`stimwise.interop.pdf` and :mod:`stimwise.interop.report_document` — A4 PDFs (tables that
  never break a word) and the signed reports' documents, drawn as the web page and as the PDF.

Resources are validated with the ``fhir.resources`` models of FHIR R4B (``fhir.resources.R4B``,
FHIR 4.3.0): version 8 of that package has no separate R4 (4.0.1) module, and R4B changed R4 only
in areas these resources do not touch (medication definition, evidence, subscriptions; see
``docs/interop.md``).
"""

from stimwise._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "export_csv_zip": ".csv_export",
        "export_bundle": ".fhir_export",
        "import_bundle": ".fhir_import",
    },
)
