"""JSON Schemas of stimwise's file formats (``stimwise schema NAME``)."""

from __future__ import annotations

from stimwise.errors import FieldProblem, InputError


def schema_document(name: str) -> dict | list:
    from stimwise.clinical.instruments import ResponseDocument
    from stimwise.clinical.intake import Intake
    from stimwise.device.profiles.models import DeviceProfile
    from stimwise.protocol.body_sites import all_sites, site_selectors
    from stimwise.protocol.models import Protocol
    from stimwise.protocol.prescription import Prescription
    from stimwise.safety.caps import PatientCaps
    from stimwise.safety.limits import LimitTable

    schemas = {
        "patient": Intake,
        "instrument-responses": ResponseDocument,
        "protocol": Protocol,
        "prescription": Prescription,
        "patient-caps": PatientCaps,
        "limits": LimitTable,
        "device-profile": DeviceProfile,
    }
    if name == "body-sites":
        return list(all_sites())
    if name == "site-selectors":
        return {name: sorted(sites) for name, sites in sorted(site_selectors().items())}
    if name not in schemas:
        names = [*schemas, "body-sites", "site-selectors"]
        raise InputError(FieldProblem("NAME", name, f"one of {', '.join(names)}"))
    return schemas[name].model_json_schema()
