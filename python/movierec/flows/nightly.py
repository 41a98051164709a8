"""The nightly batch and its retraining policy.

check landed files -> dbt build (features) -> train when due (and evaluate) -> recommend
-> dbt build (outputs) -> report -> audit -> publish, all or nothing: on a copy of the
published warehouse that dbt continues with the new landed files only, or, when that
cannot give what a full build gives (docs/incremental.md), in a fresh file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from movierec.errors import RunFailedError
from movierec.flows.land import simulate
from movierec.flows.publish import Run, warehouse_run
from movierec.flows.steps import (
    build_outputs,
    evaluate_into,
    feature_contract,
    recommend_into,
    report_into,
    train_into,
)
from movierec.land import landed_files
from movierec.model import ModelRecord, latest_model
from movierec.progress import Progress
from movierec.publishing import RunRecord, utc_now
from movierec.scoring import RunSummary
from movierec.settings import (
    ENTITIES,
    EvaluateSettings,
    NightlySettings,
    Paths,
    PublishSettings,
    RecommendSettings,
    SimulationSettings,
    TrainSettings,
)
from movierec.training import TrainResult
from movierec.warehouse import BEFORE_PYTHON, connect


@dataclass
class _Outcome:
    """What the body leaves for the summary."""

    summary: RunSummary | None = None
    trained: TrainResult | None = None


@dataclass(frozen=True)
class NightlyResult:
    """What a nightly published."""

    record: RunRecord
    summary: RunSummary
    trained: TrainResult | None


def training_due(
    record: ModelRecord | None,
    settings: TrainSettings,
    contract_features: tuple[str, ...],
    max_model_age_days: float,
) -> str | None:
    """Why a new model is needed, or None when `record` (the latest model) still serves."""
    if record is None:
        return "no model registered yet"
    if record.training != settings.mode.as_dict():
        return f"{record.model_id} was trained in another mode: {record.training}"
    if record.params != settings.forest.as_dict():
        return f"{record.model_id} has other forest parameters than the config's"
    if record.features != contract_features:
        return f"{record.model_id} was trained on other feature columns than the contract's"
    age = utc_now() - record.created_at
    if age > timedelta(days=max_model_age_days):
        return f"{record.model_id} is {age.days} days old (limit {max_model_age_days:g})"
    return None


def nightly(
    paths: Paths,
    policy: NightlySettings,
    train_settings: TrainSettings,
    recommend_settings: RecommendSettings,
    publish_settings: PublishSettings,
    progress: Progress,
) -> NightlyResult:
    """The nightly batch (see the module doc); simulates the default world first when
    nothing has landed yet."""
    if not any(landed_files(paths.raw_dir, entity) for entity in ENTITIES):
        progress("no landed data yet: simulating the default world")
        simulate(paths, SimulationSettings(), progress)
    outcome = _Outcome()

    def body(run: Run) -> str:
        build = run.build
        progress(f"dbt build: warehouse and features -> {build.warehouse_path}")
        run.build_models(BEFORE_PYTHON, progress)
        run.step("dbt build (features)")
        with connect(build, read_only=True) as con:
            latest = latest_model(con)
        features = feature_contract(build).select(train_settings.feature_set)
        due = training_due(latest, train_settings, features, policy.max_model_age_days)
        if run.forgotten:
            due = f"erasure of {len(run.forgotten)} users: the model must not have seen them"
        reason = "--retrain" if policy.retrain else due
        if reason:
            progress(f"training: {reason}")
            outcome.trained = train_into(build, train_settings, progress)
        else:
            progress("training: latest model is fresh, skipped")
        run.step("train + export")
        if outcome.trained is not None and policy.evaluate_new_model:
            evaluate_into(build, EvaluateSettings(), progress)
            run.step("evaluate")
        # an incremental build changed the lists of some users only: rescore those
        incremental = run.plan is not None and run.plan.incremental
        summary = recommend_into(build, recommend_settings, progress, changed_only=incremental)
        outcome.summary = summary
        run.step("recommend")
        progress("dbt build: recommendations and models")
        build_outputs(run)
        report_into(build, progress)
        run.step("report")
        return summary.run_id

    record = warehouse_run(
        paths,
        "nightly",
        body,
        publish_settings,
        start="nightly",
        full_refresh=policy.full_refresh,
        progress=progress,
    )
    if outcome.summary is None:  # the body returned, so it recommended
        raise RunFailedError("the nightly published without a recommendation run")
    return NightlyResult(record=record, summary=outcome.summary, trained=outcome.trained)
