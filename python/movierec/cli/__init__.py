"""Floor 6: the `movierec` command line. Typer only: options -> settings -> one flow call
-> print. Each command group is a small module."""

import typer

from movierec.cli import land, nightly, ops, steps

app = typer.Typer(
    help="Batch film recommendations on DuckDB + dbt.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
for group in (land.app, steps.app, nightly.app, ops.app):
    app.registered_commands += group.registered_commands
app.add_typer(land.ingest_app, name="ingest")

__all__ = ["app"]
