"""`movierec nightly`: the whole batch, published all or nothing."""

from __future__ import annotations

from typing import Annotated

import typer

from movierec import flows
from movierec.cli._common import (
    KeepVersions,
    MaxRowRatio,
    MinRowRatio,
    OnBadRows,
    TrainingModeOption,
    publish_settings,
    reported,
    say,
    settings,
)
from movierec.settings import (
    AuditSettings,
    Engine,
    NightlySettings,
    Paths,
    PublishSettings,
    RecommendSettings,
)

app = typer.Typer()


@app.command()
def nightly(
    retrain: Annotated[
        bool, typer.Option(help="Train a new model even if one is fresh.")
    ] = NightlySettings.retrain,
    max_model_age_days: Annotated[
        float, typer.Option(help="Retrain when the latest model is older than this.")
    ] = NightlySettings.max_model_age_days,
    top_n: Annotated[int, typer.Option(help="Films kept per user.")] = RecommendSettings.top_n,
    evaluate_new_model: Annotated[
        bool, typer.Option(help="Run `evaluate` after training a new model.")
    ] = NightlySettings.evaluate_new_model,
    on_bad_rows: OnBadRows = PublishSettings.on_bad_rows,
    keep_versions: KeepVersions = PublishSettings.keep_versions,
    min_row_ratio: MinRowRatio = AuditSettings.min_row_ratio,
    max_row_ratio: MaxRowRatio = AuditSettings.max_row_ratio,
    training_mode: TrainingModeOption = None,
    full_refresh: Annotated[
        bool,
        typer.Option(
            help="Rebuild the warehouse from every landed file, in a fresh file, even when "
            "the published one could be continued with the new landed files only."
        ),
    ] = NightlySettings.full_refresh,
    engine: Annotated[
        Engine,
        typer.Option(
            help="'duckdb': the published warehouse file. 'spark': the same models, training "
            "and ranking on Apache Spark, published as data/spark/published (docs/spark.md)."
        ),
    ] = "duckdb",
) -> None:
    """The nightly batch, built on a copy of the published warehouse (new landed files
    only) or in a fresh file, and published only if every test and the audit pass: check
    landed files -> dbt build -> train when due (and evaluate) -> recommend -> dbt build ->
    report -> audit -> publish."""
    loaded = settings(training_mode=training_mode)
    paths = loaded.paths
    publishing = publish_settings(on_bad_rows, keep_versions, min_row_ratio, max_row_ratio)
    if engine == "spark":
        with reported(paths.spark_published):
            on_spark = flows.spark_nightly(
                paths,
                loaded.train_settings(),
                RecommendSettings(top_n=top_n),  # A/B serving is DuckDB's only
                retrain,
                publishing,
                progress=say,
            )
        _print_spark_summary(paths, on_spark)
        return
    with reported(paths):
        policy = NightlySettings(
            max_model_age_days=max_model_age_days,
            evaluate_new_model=evaluate_new_model,
            retrain=retrain,
            full_refresh=full_refresh,
        )
        scoring = loaded.recommend_settings(top_n=top_n)
        result = flows.nightly(
            paths, policy, loaded.train_settings(), scoring, publishing, progress=say
        )
    record, summary = result.record, result.summary
    say(f"published {record.run_id} -> {paths.warehouse_path}")
    typer.echo(f"\nnightly summary ({record.run_id})")
    for step in record.steps:
        typer.echo(f"  {step['step']:<22} {step['seconds']:7.1f} s")
    typer.echo(f"  {'total':<22} {record.seconds or 0:7.1f} s")
    if summary.challenger_model_id is None:
        typer.echo(f"  model       {summary.model_id}")
    else:
        typer.echo(
            f"  A/B         champion {summary.model_id}, challenger "
            f"{summary.challenger_model_id} ({summary.challenger_share:.0%} of users)"
        )
    if result.trained is not None:
        typer.echo(f"  trained     {result.trained.record.model_id} (new)")
        for split, m in result.trained.metrics.items():
            typer.echo(
                f"  {split:<6} split  AUC {m.auc:.3f}  precision {m.precision:.3f}  "
                f"recall {m.recall:.3f}  F1 {m.f1:.3f}"
            )
    typer.echo(
        f"  run         {summary.run_id}: {summary.users:,} users, "
        f"{summary.recommendations:,} rows, {summary.pairs_scored:,} pairs scored "
        f"({summary.strategy}), {summary.cold_start_users:,} users without history"
    )
    typer.echo(f"  rows        {record.row_counts}")
    typer.echo(f"  warehouse   {paths.warehouse_path}")
    typer.echo(f"  report      {paths.report_path}")


def _print_spark_summary(paths: Paths, result: flows.SparkRun) -> None:
    record, summary = result.record, result.summary
    assert summary is not None  # a nightly ranks
    typer.echo(f"\nnightly summary on Spark ({record.run_id})")
    for step in record.steps:
        typer.echo(f"  {step['step']:<22} {step['seconds']:7.1f} s")
    typer.echo(f"  {'total':<22} {record.seconds or 0:7.1f} s")
    typer.echo(f"  model       {summary.model_id}" + (" (new)" if result.trained else ""))
    typer.echo(
        f"  run         {summary.run_id}: {summary.users:,} users, "
        f"{summary.recommendations:,} rows, {summary.pairs_scored:,} pairs scored, "
        f"{summary.cold_start_users:,} users without history"
    )
    typer.echo(f"  rows        {record.row_counts}")
    typer.echo(f"  warehouse   {paths.spark_published} -> {result.version.name}")
