"""What the sealed safety gate and the bounded loader cost.

* ``require_verified_us``: one ``require_verified()`` (the check every device update, session
  tick and exported chunk makes), median over ``--repeats`` calls, per library protocol; and
  its share of the session's 50 ms control tick.
* ``verify_ms``: one ``verify()`` (which now also rebuilds the prescription through the
  validators and seals the plan), median; the naive baseline in the same run is the rule
  evaluation alone (``verify`` of the already-validated prescription minus the rebuild is not
  separable, so the rebuild ``Prescription.model_validate(model_dump())`` is timed on its own).
* ``yaml``: parsing the largest library protocol with the bounded input loader against PyYAML's
  plain ``safe_load`` (the peer), and the time to refuse a 450-byte "billion laughs" document.

Run: ``.venv/bin/python benchmarks/bench_gate.py [--repeats N]`` (prints one JSON document).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from importlib import resources

import yaml

from stimwise.errors import InputError
from stimwise.protocol.io import parse_document
from stimwise.protocol.library import library
from stimwise.protocol.prescription import Prescription
from stimwise.safety import require_verified, verify

TICK_S = 0.05
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]"
       for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
)


def median_s(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_medians_s(first, second, repeats: int) -> tuple[float, float]:
    """Medians of two calls timed alternately (a shared machine's load drifts)."""
    a, b = [], []
    for _ in range(repeats):
        a.append(median_s(first, 1))
        b.append(median_s(second, 1))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    gate, verifying = {}, {}
    for protocol_id, protocol in library().items():
        rx = Prescription.from_protocol(protocol)
        report = verify(rx)
        if report.plan is None:
            continue
        plan = report.plan
        check_s = median_s(lambda plan=plan: require_verified(plan), args.repeats)
        gate[protocol_id] = {
            "require_verified_us": round(check_s * 1e6, 1),
            "share_of_50ms_tick_pct": round(100 * check_s / TICK_S, 3),
        }
        verifying[protocol_id] = {
            "verify_ms": round(median_s(lambda rx=rx: verify(rx), args.repeats // 10) * 1e3, 3),
            "rebuild_ms": round(median_s(
                lambda rx=rx: Prescription.model_validate(rx.model_dump()), args.repeats // 10
            ) * 1e3, 3),
        }
    files = resources.files("stimwise.protocol.data.library")
    largest = max((f for f in files.iterdir() if f.name.endswith(".yaml")),
                  key=lambda f: len(f.read_text("utf-8")))
    text = largest.read_text("utf-8")

    def refuse() -> None:
        try:
            parse_document(BILLION_LAUGHS, "laughs.yaml")
        except InputError:
            return
        raise AssertionError("the billion laughs document was accepted")

    bounded, plain = paired_medians_s(
        lambda: parse_document(text, "x.yaml"), lambda: yaml.safe_load(text), 60
    )
    print(json.dumps({
        "gate": gate,
        "verify": verifying,
        "yaml": {
            "file": largest.name,
            "bytes": len(text.encode()),
            "bounded_loader_ms": round(bounded * 1e3, 3),
            "pyyaml_safe_load_ms": round(plain * 1e3, 3),
            "billion_laughs_bytes": len(BILLION_LAUGHS.encode()),
            "billion_laughs_refused_ms": round(median_s(refuse, 50) * 1e3, 3),
        },
    }, indent=2))


if __name__ == "__main__":
    main()
