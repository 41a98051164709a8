"""What `build`, `train`, `recommend` and `evaluate` do: each one step of the nightly,
run on its own on top of the published warehouse and published through `warehouse_run`.

The `*_into` functions do a step's work on a build (the nightly chains them); the others
wrap one step in a run of its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

import duckdb
import polars as pl

from movierec.errors import NoDataError
from movierec.evaluation import (
    Evaluation,
    evaluate_recommenders,
    evaluation_cutoff,
    summary_table,
)
from movierec.flows.publish import Run, Start, warehouse_run
from movierec.model import registered_model
from movierec.progress import Progress
from movierec.publishing import RunRecord
from movierec.reporting import write_report
from movierec.scoring import Arm, RunSummary, recommend, serving_models, users_to_rescore
from movierec.settings import (
    EvaluateSettings,
    Paths,
    PublishSettings,
    RecommendSettings,
    TrainingMode,
    TrainSettings,
)
from movierec.training import TrainResult, fit_item_weights, train_model
from movierec.warehouse import (
    AFTER_PYTHON,
    FeatureContract,
    connect,
    parse_feature_contract,
    run_dbt,
)


def feature_contract(paths: Paths) -> FeatureContract:
    return parse_feature_contract(paths.ml_features_yml.read_text())


def build_outputs(run: Run) -> None:
    """Rebuild and test the models that read what the Python steps wrote."""
    run_dbt(run.build, ["build", *AFTER_PYTHON])
    run.step("dbt build (outputs)")


@contextmanager
def training_world(
    paths: Paths, mode: TrainingMode, progress: Progress, until: datetime | None = None
) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """The masked world a masked training mode learns in (None for the other modes): the
    same dbt project built beside the warehouse at `paths` with `training_mask_share` set,
    so every model sees each user's history without their hidden films, and its own EASE
    weights fitted on what it shows before `until` (an evaluation's cut-off; None: all).
    Removed after."""
    if mode.mode != "implicit" or mode.negative_sampling != "masked":
        yield None
        return
    world = replace(paths, warehouse_path=paths.warehouse_path.with_name("masked.duckdb"))
    mask = {"training_mask_share": mode.mask_share, "training_mask_seed": mode.sampling_seed}
    try:
        started = time.perf_counter()
        selected = ["--select", "+ml_retrieval_candidates", "+ml_sampled_features"]
        # artefacts of its own: other vars and another file would make the warehouse's
        # next dbt command parse the project again
        own = ["--target-path", str(paths.data_dir / "dbt" / "masked-target")]
        run_dbt(world, ["run", *selected, *own], variables=mask)
        progress(
            f"built the masked world ({mode.mask_share:.0%} of each user's films hidden) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        with connect(world) as masked:
            fit_item_weights(masked, mode, progress, until)
            yield masked
    finally:
        world.warehouse_path.unlink(missing_ok=True)


def train_into(paths: Paths, settings: TrainSettings, progress: Progress) -> TrainResult:
    """Train, export, check and register a model in the warehouse at `paths`."""
    contract = feature_contract(paths)
    with training_world(paths, settings.mode, progress) as masked, connect(paths) as con:
        result = train_model(con, contract, paths.models_dir, settings, progress, masked)
    record = result.record
    progress(f"registered {record.model_id} in {result.seconds:.1f} s -> {record.onnx_path}")
    return result


def recommend_into(
    paths: Paths, settings: RecommendSettings, progress: Progress, *, changed_only: bool = False
) -> RunSummary:
    """Score every user with the serving model(s) (`serving_models`: the newest, or a
    champion and a challenger) and append the run; `changed_only`: only the users whose
    lists may have changed, carrying the others' (`users_to_rescore`)."""
    with connect(paths) as con:
        serving = serving_models(con, settings.challenger_share)
        if serving is None:
            raise NoDataError("no registered model: run `movierec train` first")
        if serving.challenger is not None:
            progress(
                f"A/B: challenger {serving.challenger.model_id} serves "
                f"{serving.share:.0%} of users, champion {serving.champion.model_id} the rest"
            )
        rescore = users_to_rescore(con, serving, settings) if changed_only else None
        if rescore is not None:
            who = "every user" if rescore.user_ids is None else f"{len(rescore.user_ids):,} users"
            progress(f"rescoring {who}: {rescore.reason}")
        challenger = Arm.of(serving.challenger) if serving.challenger else None
        summary = recommend(con, Arm.of(serving.champion), settings, progress, rescore, challenger)
    rescored = "" if summary.users_rescored is None else f" ({summary.users_rescored:,} rescored)"
    progress(
        f"run {summary.run_id}: {summary.recommendations:,} recommendations for "
        f"{summary.users:,} users{rescored}, {summary.pairs_scored:,} pairs scored in "
        f"{summary.seconds:.1f} s ({summary.pairs_per_second:,.0f} pairs/s)"
    )
    return summary


def describe_evaluation(evaluation: Evaluation, k: int = 10) -> str:
    """The headline table of an evaluation, as an operator reads it."""
    with pl.Config(
        tbl_hide_dataframe_shape=True, float_precision=4, tbl_cols=-1, tbl_width_chars=200
    ):
        return (
            f"{evaluation.evaluation_id}: top-{k} over all users, {evaluation.split} split, "
            f"cut-off {evaluation.cutoff}\n{summary_table(evaluation.metrics, k=k)}"
        )


def _held_out(paths: Paths, settings: EvaluateSettings) -> pl.DataFrame | None:
    """The random split's held-out interactions (None for the time split)."""
    if settings.split != "random":
        return None
    if not paths.holdout_path.is_file():
        raise NoDataError(
            f"{paths.holdout_path}: no held-out interactions for the random split; land the "
            "data with `movierec ingest movielens PATH --holdout-per-user 10`"
        )
    return pl.read_parquet(paths.holdout_path)


def evaluate_into(paths: Paths, settings: EvaluateSettings, progress: Progress) -> Evaluation:
    """Judge the registered model's configuration and the baselines; store the metrics."""
    held_out = _held_out(paths, settings)
    with connect(paths, read_only=True) as con:
        mode = TrainingMode.from_dict(registered_model(con).training)
        cutoff = evaluation_cutoff(con, settings)
    # the time split refits before its cut-off, EASE's weights too; the random split's
    # cut-off is after everything landed, where training fitted them
    until = cutoff if settings.split == "time" else None
    with training_world(paths, mode, progress, until) as masked, connect(paths) as con:
        evaluation = evaluate_recommenders(
            con,
            feature_contract(paths),
            registered_model(con),
            settings,
            held_out,
            progress,
            masked,
        )
    progress(describe_evaluation(evaluation))
    return evaluation


def report_into(paths: Paths, progress: Progress) -> None:
    """Write the morning report of the warehouse at `paths` (read-only) beside it."""
    target = write_report(paths.warehouse_path, paths.report_path)
    progress(f"report -> {target}")


def report(paths: Paths, progress: Progress) -> None:
    """The published warehouse's morning report; it publishes nothing else."""
    report_into(paths, progress)


def build(
    paths: Paths, select: str | None, settings: PublishSettings, progress: Progress
) -> RunRecord:
    """Check the landed files, `dbt build` a copy of the warehouse, publish it."""

    def body(run: Run) -> None:
        if select:
            run_dbt(run.build, ["build", "--select", select])
        else:
            run.build_models((), progress)
        run.step("dbt build")

    # a selection builds part of the models: it leaves what the warehouse records as built
    start: Start = "step" if select else "build"
    return warehouse_run(paths, "build", body, settings, start=start, progress=progress)


def train(paths: Paths, settings: TrainSettings, progress: Progress) -> RunRecord:
    """Train a model on the published warehouse's features, register it, publish."""

    def body(run: Run) -> None:
        train_into(run.build, settings, progress)
        run.step("train + export")
        build_outputs(run)

    return warehouse_run(paths, "train", body, PublishSettings(), start="step", progress=progress)


def recommend_step(paths: Paths, settings: RecommendSettings, progress: Progress) -> RunRecord:
    """Append a recommendation run by the latest model; publish."""

    def body(run: Run) -> str:
        summary = recommend_into(run.build, settings, progress)
        run.step("recommend")
        build_outputs(run)
        return summary.run_id

    return warehouse_run(
        paths, "recommend", body, PublishSettings(), start="step", progress=progress
    )


def evaluate(paths: Paths, settings: EvaluateSettings, progress: Progress) -> RunRecord:
    """Evaluate the model and the baselines on held-out viewings; publish the metrics."""
    _held_out(paths, settings)  # refuse before taking the lock

    def body(run: Run) -> None:
        evaluate_into(run.build, settings, progress)
        run.step("evaluate")
        build_outputs(run)

    return warehouse_run(
        paths, "evaluate", body, PublishSettings(), start="step", progress=progress
    )
