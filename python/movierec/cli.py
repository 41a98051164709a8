"""The `movierec` command line: one thin command per pipeline step."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import duckdb
import polars as pl
import typer

from movierec.config import ENTITIES, Paths, SimulationSettings
from movierec.contract import RawContractError, parse_contract
from movierec.evaluation.offline import (
    EvaluateSettings,
    Evaluation,
    evaluate_recommenders,
    summary_table,
)
from movierec.features import FeatureContract, FeatureSet, parse_feature_contract
from movierec.landing import land_batch, landed_files, new_batch_id, validate_landed
from movierec.registry import ModelRecord, latest_model, sha256_of
from movierec.reporting.report import write_report
from movierec.scoring.recommend import RecommendSettings, RunSummary, recommend
from movierec.simulate import simulate_world
from movierec.training.export import AgreementError, OnnxScorer
from movierec.training.forest import ForestParams
from movierec.training.pipeline import TrainResult, TrainSettings, train_model
from movierec.warehouse import DbtError, connect, run_dbt

app = typer.Typer(
    help="Batch film recommendations on DuckDB + dbt.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# dbt selections: everything that does not read what the Python steps write, and the rest.
BEFORE_SCORING = ["--exclude", "source:ml_outputs+"]
AFTER_SCORING = ["--select", "source:ml_outputs+"]


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _say(message: str) -> None:
    typer.echo(f"[{datetime.now():%H:%M:%S}] {message}")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@app.command()
def simulate(
    users: Annotated[int, typer.Option(help="Number of users.")] = 10_000,
    movies: Annotated[int, typer.Option(help="Number of films.")] = 2_000,
    interactions: Annotated[int, typer.Option(help="Number of viewings.")] = 150_000,
    as_of: Annotated[
        str, typer.Option(help="As-of date (YYYY-MM-DD): viewings fall in the 365 days before.")
    ] = "2024-12-31",
    seed: Annotated[int, typer.Option(help="Random seed: one seed, one world.")] = 42,
) -> None:
    """Simulate a world (users, films, viewings) and land it as one immutable Parquet batch."""
    paths = Paths.from_env()
    settings = SimulationSettings(
        n_users=users,
        n_movies=movies,
        n_interactions=interactions,
        as_of=date.fromisoformat(as_of),
        seed=seed,
    )
    started = time.perf_counter()
    world = simulate_world(settings)
    simulated = time.perf_counter() - started
    contract = parse_contract(paths.sources_yml.read_text())
    try:
        written = land_batch(world.as_dict(), contract, paths.raw_dir, new_batch_id(), _now())
    except RawContractError as exc:
        raise _fail(str(exc)) from exc
    landed = time.perf_counter() - started - simulated
    for entity, path in written.items():
        rows = world.as_dict()[entity].num_rows
        typer.echo(f"landed {rows:>10,} {entity:<12} -> {path}")
    typer.echo(f"simulated in {simulated:.2f} s, checked and landed in {landed:.2f} s")


@app.command()
def validate() -> None:
    """Check every landed Parquet file against the raw data contract."""
    paths = Paths.from_env()
    _validate(paths)
    typer.echo(f"all landed files under {paths.raw_dir} meet the contract")


def _validate(paths: Paths) -> None:
    contract = parse_contract(paths.sources_yml.read_text())
    problems = validate_landed(paths.raw_dir, contract, _now())
    if problems:
        raise _fail(str(RawContractError(problems)))


def _dbt_build(paths: Paths, selection: list[str]) -> None:
    try:
        run_dbt(paths, ["build", *selection])
    except DbtError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def build(
    select: Annotated[
        str | None, typer.Option(help="dbt node selection, as in `dbt build --select`.")
    ] = None,
) -> None:
    """Check the landed files, then `dbt build` (run + test) the warehouse."""
    paths = Paths.from_env()
    _validate(paths)
    _dbt_build(paths, ["--select", select] if select else [])


def _feature_contract(paths: Paths) -> FeatureContract:
    return parse_feature_contract(paths.ml_features_yml.read_text())


@app.command()
def train(
    trees: Annotated[int, typer.Option(help="Number of trees.")] = ForestParams.n_estimators,
    max_depth: Annotated[int, typer.Option(help="Maximum tree depth.")] = 8,
    min_samples_split: Annotated[int, typer.Option()] = ForestParams.min_samples_split,
    feature_set: Annotated[
        str, typer.Option(help="'all' (contract features) or 'seed' (the seed's 22).")
    ] = "all",
    test_fraction: Annotated[float, typer.Option(help="Share of latest viewings held out.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Random state of the forest and splits.")] = 42,
) -> None:
    """Train the forest on ml_training_features, export it to ONNX, check and register it."""
    if feature_set not in ("all", "seed"):
        raise _fail(f"--feature-set must be 'all' or 'seed', got {feature_set!r}")
    settings = TrainSettings(
        forest=ForestParams(
            n_estimators=trees,
            max_depth=max_depth,
            min_samples_split=min_samples_split,
            random_state=seed,
        ),
        feature_set=feature_set,  # type: ignore[arg-type]
        test_fraction=test_fraction,
    )
    _train(Paths.from_env(), settings)


def _train(paths: Paths, settings: TrainSettings) -> TrainResult:
    with connect(paths) as con:
        try:
            result = train_model(
                con, _feature_contract(paths), paths.models_dir, settings, progress=_say
            )
        except AgreementError as exc:
            raise _fail(str(exc)) from exc
    record = result.record
    _say(f"registered {record.model_id} in {result.seconds:.1f} s -> {record.onnx_path}")
    return result


def _load_scorer(record: ModelRecord) -> OnnxScorer:
    path = Path(record.onnx_path)
    if sha256_of(path) != record.onnx_sha256:
        raise RuntimeError(f"{path} does not match the sha256 registered for {record.model_id}")
    return OnnxScorer(path.read_bytes())


@app.command(name="recommend")
def recommend_command(
    top_n: Annotated[int, typer.Option(help="Films kept per user.")] = 10,
    candidates_per_genre: Annotated[
        int, typer.Option(help="Films shortlisted per segment and genre; 0 = score every film.")
    ] = RecommendSettings.candidates_per_genre,
) -> None:
    """Score every user against unseen films with the latest model; append the top N."""
    paths = Paths.from_env()
    settings = RecommendSettings(top_n=top_n, candidates_per_genre=candidates_per_genre)
    _recommend(paths, settings)


def _registered_model(con: duckdb.DuckDBPyConnection) -> ModelRecord:
    record = latest_model(con)
    if record is None:
        raise _fail("no registered model: run `movierec train` first")
    return record


def _recommend(paths: Paths, settings: RecommendSettings) -> RunSummary:
    with connect(paths) as con:
        record = _registered_model(con)
        summary = recommend(
            con, _load_scorer(record), record.model_id, record.features, settings, progress=_say
        )
    _say(
        f"run {summary.run_id}: {summary.recommendations:,} recommendations for "
        f"{summary.users:,} users, {summary.pairs_scored:,} pairs scored in "
        f"{summary.seconds:.1f} s ({summary.pairs_per_second:,.0f} pairs/s)"
    )
    return summary


@app.command()
def evaluate(
    holdout_days: Annotated[
        int, typer.Option(help="Judge on the viewings of the last N days; build before them.")
    ] = 30,
) -> None:
    """Judge the model's top-k lists and three baselines on held-out viewings."""
    _evaluate(Paths.from_env(), EvaluateSettings(holdout_days=holdout_days))


def _evaluate(paths: Paths, settings: EvaluateSettings) -> Evaluation:
    with connect(paths) as con:
        evaluation = evaluate_recommenders(
            con, _feature_contract(paths), _registered_model(con), settings, progress=_say
        )
    with pl.Config(
        tbl_hide_dataframe_shape=True, float_precision=4, tbl_cols=-1, tbl_width_chars=200
    ):
        typer.echo(
            f"\n{evaluation.evaluation_id}: top-10 over all users, cut-off {evaluation.cutoff}"
        )
        typer.echo(str(summary_table(evaluation.metrics, k=10)))
    return evaluation


@app.command()
def report() -> None:
    """Write the morning report (self-contained HTML) next to the warehouse."""
    _report(Paths.from_env())


def _report(paths: Paths) -> Path:
    try:
        target = write_report(paths.warehouse_path, paths.report_path)
    except RuntimeError as exc:
        raise _fail(str(exc)) from exc
    _say(f"report -> {target}")
    return target


def _training_due(paths: Paths, max_model_age_days: float, feature_set: FeatureSet) -> str | None:
    """Why a new model is needed, or None when the latest one still serves."""
    with connect(paths, read_only=True) as con:
        record = latest_model(con)
    if record is None:
        return "no model registered yet"
    if record.features != _feature_contract(paths).select(feature_set):
        return f"{record.model_id} was trained on other feature columns than the contract's"
    age = _now() - record.created_at
    if age > timedelta(days=max_model_age_days):
        return f"{record.model_id} is {age.days} days old (limit {max_model_age_days:g})"
    return None


@app.command()
def nightly(
    retrain: Annotated[bool, typer.Option(help="Train a new model even if one is fresh.")] = False,
    max_model_age_days: Annotated[
        float, typer.Option(help="Retrain when the latest model is older than this.")
    ] = 7.0,
    top_n: Annotated[int, typer.Option(help="Films kept per user.")] = 10,
    evaluate_new_model: Annotated[
        bool, typer.Option(help="Run `evaluate` after training a new model.")
    ] = True,
) -> None:
    """The nightly batch: land -> dbt build -> train when due (and evaluate) -> recommend
    -> dbt build."""
    paths = Paths.from_env()
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def step(name: str, since: float) -> float:
        timings[name] = time.perf_counter() - since
        return time.perf_counter()

    mark = started
    if not any(landed_files(paths.raw_dir, entity) for entity in ENTITIES):
        _say("no landed data yet: simulating the default world")
        simulate()
    mark = step("land", mark)
    _validate(paths)
    _say("dbt build: warehouse and features")
    _dbt_build(paths, BEFORE_SCORING)
    mark = step("dbt build (features)", mark)

    settings = TrainSettings()
    due = _training_due(paths, max_model_age_days, settings.feature_set)
    reason = "--retrain" if retrain else due
    result = None
    if reason:
        _say(f"training: {reason}")
        result = _train(paths, settings)
    else:
        _say("training: latest model is fresh, skipped")
    mark = step("train + export", mark)
    if result and evaluate_new_model:
        _evaluate(paths, EvaluateSettings())
        mark = step("evaluate", mark)

    summary = _recommend(paths, RecommendSettings(top_n=top_n))
    mark = step("recommend", mark)
    _say("dbt build: recommendations and models")
    _dbt_build(paths, AFTER_SCORING)
    mark = step("dbt build (outputs)", mark)
    _report(paths)
    step("report", mark)

    typer.echo("\nnightly summary")
    for name, seconds in timings.items():
        typer.echo(f"  {name:<22} {seconds:7.1f} s")
    typer.echo(f"  {'total':<22} {time.perf_counter() - started:7.1f} s")
    typer.echo(f"  model       {summary.model_id}" + (" (new)" if result else ""))
    if result:
        for split, m in result.metrics.items():
            typer.echo(
                f"  {split:<6} split  AUC {m.auc:.3f}  precision {m.precision:.3f}  "
                f"recall {m.recall:.3f}  F1 {m.f1:.3f}"
            )
    typer.echo(
        f"  run         {summary.run_id}: {summary.users:,} users, "
        f"{summary.recommendations:,} rows, {summary.pairs_scored:,} pairs scored"
    )
    typer.echo(f"  warehouse   {paths.warehouse_path}")
    typer.echo(f"  report      {paths.report_path}")
