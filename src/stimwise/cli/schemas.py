"""JSON Schemas of stimwise's file formats (``stimwise schema NAME``)."""

from __future__ import annotations

from stimwise.errors import FieldProblem, InputError


def schema_document(name: str) -> dict | list:
    from stimwise.protocol.body_sites import all_sites
    from stimwise.protocol.models import Protocol
    from stimwise.protocol.prescription import Prescription
    from stimwise.safety.caps import PatientCaps
    from stimwise.safety.limits import LimitTable

    schemas = {
        "protocol": Protocol,
        "prescription": Prescription,
        "patient-caps": PatientCaps,
        "limits": LimitTable,
    }
    if name == "body-sites":
        return list(all_sites())
    if name not in schemas:
        raise InputError(
            FieldProblem("NAME", name, f"one of {', '.join([*schemas, 'body-sites'])}")
        )
    return schemas[name].model_json_schema()
