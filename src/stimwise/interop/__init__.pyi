"""Type stub of :mod:`stimwise.interop`'s lazy names (see ``__init__.py``)."""

from stimwise.interop.csv_export import export_csv_zip
from stimwise.interop.fhir_export import export_bundle
from stimwise.interop.fhir_import import import_bundle

__all__ = [
    "export_bundle",
    "export_csv_zip",
    "import_bundle",
]
