"""``python -m stimwise`` runs the command line."""

from stimwise.cli.main import run

run()
