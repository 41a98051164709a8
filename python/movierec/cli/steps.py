"""`movierec build`, `train`, `recommend`, `evaluate`, `report`: one step of the nightly
each, on top of the published warehouse."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from movierec import flows
from movierec.cli._common import (
    OnBadRows,
    TrainingModeOption,
    publish_settings,
    reported,
    say,
    settings,
)
from movierec.settings import (
    Engine,
    EvaluateSettings,
    PublishSettings,
    RecommendSettings,
    Split,
    TrainSettings,
)

app = typer.Typer()


@app.command()
def build(
    select: Annotated[
        str | None, typer.Option(help="dbt node selection, as in `dbt build --select`.")
    ] = None,
    on_bad_rows: OnBadRows = PublishSettings.on_bad_rows,
    engine: Annotated[
        Engine,
        typer.Option(
            help="'duckdb': build a copy of the warehouse and publish it. 'spark': build a new "
            "version of Spark's warehouse, every model, and publish it (docs/spark.md)."
        ),
    ] = "duckdb",
) -> None:
    """Check the landed files, `dbt build` (run + test) a copy of the warehouse, publish it."""
    paths = settings().paths
    publishing = publish_settings(on_bad_rows)
    if engine == "spark":
        with reported(paths.spark_published):
            flows.spark_build(paths, select, publishing, say)
        return
    with reported(paths):
        record = flows.build(paths, select, publishing, say)
    say(f"published {record.run_id} -> {paths.warehouse_path}")


@app.command()
def train(
    trees: Annotated[int | None, typer.Option(help="Number of trees.")] = None,
    max_depth: Annotated[int | None, typer.Option(help="Maximum tree depth.")] = None,
    min_samples_split: Annotated[int | None, typer.Option()] = None,
    feature_set: Annotated[
        str, typer.Option(help="'all' (contract features) or 'seed' (the seed's 22).")
    ] = TrainSettings.feature_set,
    test_fraction: Annotated[
        float, typer.Option(help="Share of latest viewings held out.")
    ] = TrainSettings.test_fraction,
    seed: Annotated[int | None, typer.Option(help="Random state of the forest and splits.")] = None,
    training_mode: TrainingModeOption = None,
) -> None:
    """Train the forest on ml_training_features, export it to ONNX, check, register, publish.

    Forest parameters and the training mode default to the config file's [forest] and
    [training] tables (movierec.toml, or MOVIEREC_CONFIG), then to the built-in defaults."""
    options: dict[str, Any] = {
        "n_estimators": trees,
        "max_depth": max_depth,
        "min_samples_split": min_samples_split,
        "random_state": seed,
    }
    loaded = settings(
        training_mode=training_mode,
        forest={k: v for k, v in options.items() if v is not None},
    )
    with reported(loaded.paths):
        training = loaded.train_settings(feature_set=feature_set, test_fraction=test_fraction)
        record = flows.train(loaded.paths, training, say)
    say(f"published {record.run_id} -> {loaded.paths.warehouse_path}")


@app.command()
def recommend(
    top_n: Annotated[int, typer.Option(help="Films kept per user.")] = RecommendSettings.top_n,
    candidates: Annotated[
        str,
        typer.Option(
            help="Films scored per user: 'retrieval' (ml_retrieval_candidates), 'shortlist' "
            "(probe users' best per segment and genre) or 'exhaustive' (every unseen film)."
        ),
    ] = RecommendSettings.candidates,
    candidates_per_genre: Annotated[
        int, typer.Option(help="shortlist: films shortlisted per segment and genre.")
    ] = RecommendSettings.candidates_per_genre,
) -> None:
    """Score every user against unseen films with the latest model; append the top N; publish."""
    loaded = settings()
    paths = loaded.paths
    with reported(paths):
        scoring = loaded.recommend_settings(
            top_n=top_n,
            candidates=candidates,
            candidates_per_genre=candidates_per_genre,
        )
        record = flows.recommend_step(paths, scoring, say)
    say(f"published {record.run_id} -> {paths.warehouse_path}")


@app.command()
def evaluate(
    holdout_days: Annotated[
        int, typer.Option(help="Judge on the viewings of the last N days; build before them.")
    ] = EvaluateSettings.holdout_days,
    split: Annotated[
        Split,
        typer.Option(
            help="time: judge on the last N days' viewings. random: on the interactions "
            "`ingest movielens --holdout-per-user` held out."
        ),
    ] = EvaluateSettings.split,
) -> None:
    """Judge the model's top-k lists and four baselines on held-out viewings; publish."""
    paths = settings().paths
    with reported(paths):
        evaluation = EvaluateSettings(holdout_days=holdout_days, split=split)
        record = flows.evaluate(paths, evaluation, say)
    say(f"published {record.run_id} -> {paths.warehouse_path}")


@app.command()
def report() -> None:
    """Write the morning report (self-contained HTML) of the published warehouse beside it."""
    paths = settings().paths
    with reported():
        flows.report(paths, say)
