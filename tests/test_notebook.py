"""The example notebook runs from top to bottom in a fresh kernel (issue 13: an example notebook
in examples/ executed by the tests). Any error in any cell fails the test."""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "first-steps.ipynb"


@pytest.mark.slow
def test_the_first_steps_notebook_runs_and_draws_its_figures():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "commit the notebook without outputs (the test runs it)"
    )
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the run at threshold and the waveform
    text = "".join(str(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in outputs)
    for shown in ("'pass'", "FDA.power-density", "eligible_with_precautions",
                  "100 µs: 0.122 mA", "'completed'"):
        assert shown in text, shown
