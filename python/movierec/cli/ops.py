"""`movierec rollback` and `runs`: published versions and the run log."""

from __future__ import annotations

from typing import Annotated

import typer

from movierec import flows
from movierec.cli._common import reported, say, settings
from movierec.settings import Engine

app = typer.Typer()


@app.command()
def rollback(
    engine: Annotated[
        Engine, typer.Option(help="Whose warehouse: DuckDB's file, or Spark's versions.")
    ] = "duckdb",
) -> None:
    """Publish the previous retained version again; the current one is dropped."""
    paths = settings().paths
    with reported():
        dropped, restored = flows.roll_back(paths, say, engine)
    published = paths.spark_published if engine == "spark" else paths.warehouse_path
    say(f"published {restored} again (dropped {dropped}) -> {published}")


@app.command()
def runs(
    last: Annotated[int, typer.Option(help="How many of the latest runs to list.")] = 20,
) -> None:
    """The run log: every run that tried to publish, with its outcome."""
    typer.echo(flows.latest_runs(settings().paths, last))


@app.command()
def promote(
    force: Annotated[
        bool, typer.Option(help="Promote even when kpi.rpt_ab_test has not decided for it.")
    ] = False,
) -> None:
    """Make the A/B test's challenger the champion: when kpi.rpt_ab_test's decision is
    'challenger wins' (both arms with enough list views, the difference's 95 % interval
    above 0), or with --force. Published as a run of its own, in the run log."""
    paths = settings().paths
    with reported(paths):
        evidence, record = flows.promote(paths, force, say)
    say(f"promoted ({evidence}); published {record.run_id} -> {paths.warehouse_path}")
