"""`python -m movierec` runs the CLI."""

from movierec.cli import app

app()
