"""The ``stimwise`` command itself (issue 13): its version and shell completion."""

from __future__ import annotations

from typer.testing import CliRunner

from stimwise import __version__
from stimwise.cli.main import app

runner = CliRunner()


def test_version_prints_the_package_version_and_exits_0():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"stimwise {__version__}"


def test_shell_completion_script_and_completions():
    """``--show-completion`` prints the script that ``--install-completion`` installs, and the
    completion it calls answers with the command names (Typer's completion, kept working)."""
    script = runner.invoke(app, ["--show-completion"], prog_name="stimwise",
                           env={"SHELL": "/bin/bash"})
    assert script.exit_code == 0 and "_STIMWISE_COMPLETE" in script.output
    completed = runner.invoke(
        app, [], prog_name="stimwise",
        env={"_STIMWISE_COMPLETE": "complete_bash", "COMP_WORDS": "stimwise prot",
             "COMP_CWORD": "1"},
    )
    assert completed.output.split() == ["protocols"]
    completed = runner.invoke(
        app, [], prog_name="stimwise",
        env={"_STIMWISE_COMPLETE": "complete_bash", "COMP_WORDS": "stimwise protocols ",
             "COMP_CWORD": "2"},
    )
    assert set(completed.output.split()) == {"list", "show"}
