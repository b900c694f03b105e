"""The fuzzing harness ``benchmarks/fuzz_inputs.py`` in small: a few dozen inputs per target,
with no traceback, no hang and no wrong acceptance (HAZ-096). The full run (1,000 inputs per
target) is the benchmark itself."""

from __future__ import annotations

import logging

import pytest

from benchmark_modules import load_benchmark

fuzz = load_benchmark("fuzz_inputs")

@pytest.mark.parametrize("target", fuzz.TARGETS)
def test_HAZ096_fuzzed_inputs_give_no_traceback_hang_or_wrong_acceptance(target, tmp_path):
    logging.disable(logging.WARNING)
    try:
        report = fuzz.run_harness(per_target=30, seconds=60, targets=(target,),
                                  input_timeout_s=10.0, workdir=tmp_path)
    finally:
        logging.disable(logging.NOTSET)
    found = report["targets"][target]
    assert found["inputs"] == 30
    assert found["refused"] > 0  # the mutations reach the checks
    assert (found["tracebacks"], found["hangs"], found["wrong_acceptances"]) == (0, 0, 0), (
        found["examples"])


def test_the_oracle_sees_a_journal_check_switched_off(tmp_path, monkeypatch):
    """The harness is not vacuous: with the chain's link check disabled, journals with edited
    lines are accepted and reported as wrong acceptances."""
    import stimwise.session.journal as journal

    monkeypatch.setattr(journal._ChainReader, "_check_link", lambda *args: None)
    report = fuzz.run_harness(per_target=60, seconds=60, targets=("journal",),
                              workdir=tmp_path)
    assert report["targets"]["journal"]["wrong_acceptances"] > 0


def test_a_cli_value_outside_its_domain_is_judged_by_the_option_table():
    assert fuzz.outside_domain("--target-ma", "nan")
    assert fuzz.outside_domain("--target-ma", "-1")
    assert fuzz.outside_domain("--seconds", "1e20")
    assert fuzz.outside_domain("--minutes", "ten")
    assert not fuzz.outside_domain("--minutes", "30")
