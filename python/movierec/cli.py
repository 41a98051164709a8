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
from movierec.erasure import request_erasure
from movierec.evaluation.holdout import hold_out_per_user
from movierec.evaluation.offline import (
    EvaluateSettings,
    Evaluation,
    Split,
    evaluate_recommenders,
    summary_table,
)
from movierec.features import FeatureContract, parse_feature_contract
from movierec.ingest.movielens import MovieLensSettings, read_movielens
from movierec.landing import (
    land_batch,
    landed_files,
    new_batch_id,
    validate_landed,
    write_atomically,
)
from movierec.publish import (
    AuditError,
    AuditSettings,
    RunRecord,
    WarehouseBusyError,
    clean_up,
    exclusive,
    new_run_id,
    read_run_records,
    rollback,
    utc_now,
    write_run_record,
)
from movierec.registry import ModelRecord, latest_model, sha256_of
from movierec.reporting.report import write_report
from movierec.runs import Body, PublishSettings, Run, RunFailedError, describe, published_run
from movierec.scoring.recommend import RecommendSettings, RunSummary, recommend
from movierec.simulate import simulate_world
from movierec.training.export import AgreementError, OnnxScorer
from movierec.training.forest import ForestParams
from movierec.training.pipeline import TrainResult, TrainSettings, train_model
from movierec.training.sampling import TrainingMode
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


ingest_app = typer.Typer(help="Land a public dataset as one batch under the raw contract.")
app.add_typer(ingest_app, name="ingest")


@ingest_app.command("movielens")
def ingest_movielens(
    path: Annotated[Path, typer.Argument(help="The ml-100k folder (u.data, u.user, u.item).")],
    liked_min_rating: Annotated[
        int, typer.Option(help="A rating at least this high counts as liked.")
    ] = MovieLensSettings.liked_min_rating,
    holdout_per_user: Annotated[
        int,
        typer.Option(
            help="Hold out this many random ratings per user (at most half of theirs) for "
            "`evaluate --split random`, as ml-100k's ua/ub splits do; 0 lands them all."
        ),
    ] = 0,
    holdout_seed: Annotated[int, typer.Option(help="Seed of the held-out draw.")] = 7,
) -> None:
    """Read a GroupLens MovieLens-100k folder, check it and land it as one batch."""
    paths = Paths.from_env()
    try:
        tables = read_movielens(path, MovieLensSettings(liked_min_rating=liked_min_rating))
        held_out = None
        if holdout_per_user:
            tables["interactions"], held_out = hold_out_per_user(
                tables["interactions"], holdout_per_user, holdout_seed
            )
        contract = parse_contract(paths.sources_yml.read_text())
        written = land_batch(tables, contract, paths.raw_dir, new_batch_id(), _now())
    except (RawContractError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    for entity, target in written.items():
        typer.echo(f"landed {tables[entity].num_rows:>10,} {entity:<12} -> {target}")
    # a held-out file from an earlier ingest would judge against data that has since landed
    if held_out is None:
        paths.holdout_path.unlink(missing_ok=True)
    else:
        write_atomically(held_out, paths.holdout_path)
        typer.echo(f"held out {held_out.num_rows:>8,} interactions -> {paths.holdout_path}")


@app.command()
def validate() -> None:
    """Check every landed Parquet file against the raw data contract."""
    paths = Paths.from_env()
    contract = parse_contract(paths.sources_yml.read_text())
    problems = validate_landed(paths.raw_dir, contract, _now())
    if problems:
        raise _fail(str(RawContractError(problems)))
    typer.echo(f"all landed files under {paths.raw_dir} meet the contract")


# --- options shared by the commands that publish --------------------------------------

OnBadRows = Annotated[
    str,
    typer.Option(
        help="'fail': a landed row breaking the contract stops the run; 'quarantine': it "
        "goes to ops.quarantined_rows and out of every model, and the run goes on."
    ),
]
KeepVersions = Annotated[
    int, typer.Option(help="Published versions kept (for `movierec rollback`).")
]
MinRowRatio = Annotated[
    float, typer.Option(help="Audit: fewest rows per audited table, as a share of published.")
]
MaxRowRatio = Annotated[
    float, typer.Option(help="Audit: most rows per audited table, as a multiple of published.")
]


def _publish_settings(
    on_bad_rows: str = "fail",
    keep_versions: int = PublishSettings.keep_versions,
    min_row_ratio: float = AuditSettings.min_row_ratio,
    max_row_ratio: float = AuditSettings.max_row_ratio,
) -> PublishSettings:
    if on_bad_rows not in ("fail", "quarantine"):
        raise _fail(f"--on-bad-rows must be 'fail' or 'quarantine', got {on_bad_rows!r}")
    try:
        return PublishSettings(
            audit=AuditSettings(min_row_ratio=min_row_ratio, max_row_ratio=max_row_ratio),
            keep_versions=keep_versions,
            on_bad_rows=on_bad_rows,  # type: ignore[arg-type]
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc


def _publishing(
    paths: Paths,
    command: str,
    body: Body,
    settings: PublishSettings | None = None,
    *,
    fresh: bool = False,
) -> RunRecord:
    """Run `body` on a staged warehouse, audit and publish it; any failure exits non-zero
    with the published warehouse unchanged."""
    try:
        record = published_run(
            paths, command, body, settings or PublishSettings(), fresh=fresh, progress=_say
        )
    except (
        WarehouseBusyError,
        RawContractError,
        RunFailedError,
        AuditError,
        DbtError,
        AgreementError,
    ) as exc:
        raise _fail(f"{exc}\nnothing published: {paths.warehouse_path} is unchanged") from exc
    _say(f"published {record.run_id} -> {paths.warehouse_path}")
    return record


def _dbt_build(paths: Paths, selection: list[str]) -> None:
    run_dbt(paths, ["build", *selection])


def _build_outputs(run: Run) -> None:
    """Rebuild and test the models that read what the Python steps wrote."""
    _dbt_build(run.staged, AFTER_SCORING)
    run.step("dbt build (outputs)")


@app.command()
def build(
    select: Annotated[
        str | None, typer.Option(help="dbt node selection, as in `dbt build --select`.")
    ] = None,
    on_bad_rows: OnBadRows = "fail",
) -> None:
    """Check the landed files, `dbt build` (run + test) a copy of the warehouse, publish it."""

    def body(run: Run) -> None:
        _dbt_build(run.staged, ["--select", select] if select else [])
        run.step("dbt build")

    _publishing(Paths.from_env(), "build", body, _publish_settings(on_bad_rows))


TrainingModeOption = Annotated[
    str | None,
    typer.Option(
        help="'explicit' or 'implicit'; default: [training] mode of the config file "
        "(movierec.toml, or MOVIEREC_CONFIG)."
    ),
]


def _training_mode(paths: Paths, override: str | None) -> TrainingMode:
    """The config file's [training] table, with `override` as its mode when given."""
    values = dict(paths.config().get("training", {}))
    if override is not None:
        values["mode"] = override
    try:
        return TrainingMode(**values)
    except (TypeError, ValueError) as exc:
        raise _fail(f"{paths.config_path} [training]: {exc}") from exc


def _forest_params(paths: Paths, overrides: dict[str, object] | None = None) -> ForestParams:
    """The config file's [forest] table over the built-in defaults, then `overrides`."""
    values = {**paths.config().get("forest", {}), **(overrides or {})}
    try:
        return ForestParams(**values)
    except TypeError as exc:
        raise _fail(f"{paths.config_path} [forest]: {exc}") from exc


def _feature_contract(paths: Paths) -> FeatureContract:
    return parse_feature_contract(paths.ml_features_yml.read_text())


@app.command()
def train(
    trees: Annotated[int | None, typer.Option(help="Number of trees.")] = None,
    max_depth: Annotated[int | None, typer.Option(help="Maximum tree depth.")] = None,
    min_samples_split: Annotated[int | None, typer.Option()] = None,
    feature_set: Annotated[
        str, typer.Option(help="'all' (contract features) or 'seed' (the seed's 22).")
    ] = "all",
    test_fraction: Annotated[float, typer.Option(help="Share of latest viewings held out.")] = 0.2,
    seed: Annotated[int | None, typer.Option(help="Random state of the forest and splits.")] = None,
    training_mode: TrainingModeOption = None,
) -> None:
    """Train the forest on ml_training_features, export it to ONNX, check, register, publish.

    Forest parameters and the training mode default to the config file's [forest] and
    [training] tables (movierec.toml, or MOVIEREC_CONFIG), then to the built-in defaults."""
    if feature_set not in ("all", "seed"):
        raise _fail(f"--feature-set must be 'all' or 'seed', got {feature_set!r}")
    paths = Paths.from_env()
    overrides = {
        "n_estimators": trees,
        "max_depth": max_depth,
        "min_samples_split": min_samples_split,
        "random_state": seed,
    }
    settings = TrainSettings(
        forest=_forest_params(paths, {k: v for k, v in overrides.items() if v is not None}),
        mode=_training_mode(paths, training_mode),
        feature_set=feature_set,  # type: ignore[arg-type]
        test_fraction=test_fraction,
    )

    def body(run: Run) -> None:
        _train(run.staged, settings)
        run.step("train + export")
        _build_outputs(run)

    _publishing(paths, "train", body)


def _train(paths: Paths, settings: TrainSettings) -> TrainResult:
    with connect(paths) as con:
        result = train_model(
            con, _feature_contract(paths), paths.models_dir, settings, progress=_say
        )
    record = result.record
    _say(f"registered {record.model_id} in {result.seconds:.1f} s -> {record.onnx_path}")
    return result


def _load_scorer(record: ModelRecord) -> OnnxScorer:
    path = Path(record.onnx_path)
    if sha256_of(path) != record.onnx_sha256:
        raise RunFailedError(f"{path} does not match the sha256 registered for {record.model_id}")
    return OnnxScorer(path.read_bytes())


@app.command(name="recommend")
def recommend_command(
    top_n: Annotated[int, typer.Option(help="Films kept per user.")] = 10,
    candidates_per_genre: Annotated[
        int, typer.Option(help="Films shortlisted per segment and genre; 0 = score every film.")
    ] = RecommendSettings.candidates_per_genre,
) -> None:
    """Score every user against unseen films with the latest model; append the top N; publish."""
    settings = RecommendSettings(top_n=top_n, candidates_per_genre=candidates_per_genre)

    def body(run: Run) -> str:
        summary = _recommend(run.staged, settings)
        run.step("recommend")
        _build_outputs(run)
        return summary.run_id

    _publishing(Paths.from_env(), "recommend", body)


def _registered_model(con: duckdb.DuckDBPyConnection) -> ModelRecord:
    record = latest_model(con)
    if record is None:
        raise RunFailedError("no registered model: run `movierec train` first")
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
    split: Annotated[
        Split,
        typer.Option(
            help="time: judge on the last N days' viewings. random: on the interactions "
            "`ingest movielens --holdout-per-user` held out."
        ),
    ] = "time",
) -> None:
    """Judge the model's top-k lists and four baselines on held-out viewings; publish."""
    paths = Paths.from_env()
    if split == "random" and not paths.holdout_path.is_file():
        raise _fail(
            f"{paths.holdout_path}: no held-out interactions for the random split; land the "
            "data with `movierec ingest movielens PATH --holdout-per-user 10`"
        )
    settings = EvaluateSettings(holdout_days=holdout_days, split=split)

    def body(run: Run) -> None:
        _evaluate(run.staged, settings)
        run.step("evaluate")
        _build_outputs(run)

    _publishing(paths, "evaluate", body)


def _evaluate(paths: Paths, settings: EvaluateSettings) -> Evaluation:
    held_out = pl.read_parquet(paths.holdout_path) if settings.split == "random" else None
    with connect(paths) as con:
        evaluation = evaluate_recommenders(
            con, _feature_contract(paths), _registered_model(con), settings, held_out, _say
        )
    with pl.Config(
        tbl_hide_dataframe_shape=True, float_precision=4, tbl_cols=-1, tbl_width_chars=200
    ):
        typer.echo(
            f"\n{evaluation.evaluation_id}: top-10 over all users, {evaluation.split} split, "
            f"cut-off {evaluation.cutoff}"
        )
        typer.echo(str(summary_table(evaluation.metrics, k=10)))
    return evaluation


@app.command()
def report() -> None:
    """Write the morning report (self-contained HTML) of the published warehouse beside it."""
    paths = Paths.from_env()
    try:
        _report(paths)
    except RuntimeError as exc:
        raise _fail(str(exc)) from exc


def _report(paths: Paths) -> Path:
    target = write_report(paths.warehouse_path, paths.report_path)
    _say(f"report -> {target}")
    return target


def _training_due(paths: Paths, max_model_age_days: float, settings: TrainSettings) -> str | None:
    """Why a new model is needed, or None when the latest one still serves."""
    with connect(paths, read_only=True) as con:
        record = latest_model(con)
    if record is None:
        return "no model registered yet"
    if record.training != settings.mode.as_dict():
        return f"{record.model_id} was trained in another mode: {record.training}"
    if record.params != settings.forest.as_dict():
        return f"{record.model_id} has other forest parameters than the config's"
    if record.features != _feature_contract(paths).select(settings.feature_set):
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
    on_bad_rows: OnBadRows = "fail",
    keep_versions: KeepVersions = PublishSettings.keep_versions,
    min_row_ratio: MinRowRatio = AuditSettings.min_row_ratio,
    max_row_ratio: MaxRowRatio = AuditSettings.max_row_ratio,
    training_mode: TrainingModeOption = None,
) -> None:
    """The nightly batch, built in a fresh file and published only if every test and the
    audit pass: check landed files -> dbt build -> train when due (and evaluate) ->
    recommend -> dbt build -> report -> audit -> publish."""
    paths = Paths.from_env()
    settings = _publish_settings(on_bad_rows, keep_versions, min_row_ratio, max_row_ratio)
    train_settings = TrainSettings(
        forest=_forest_params(paths), mode=_training_mode(paths, training_mode)
    )
    if not any(landed_files(paths.raw_dir, entity) for entity in ENTITIES):
        _say("no landed data yet: simulating the default world")
        simulate()
    outcome: dict[str, object] = {}

    def body(run: Run) -> str:
        staged = run.staged
        _say(f"dbt build: warehouse and features -> {staged.warehouse_path}")
        _dbt_build(staged, BEFORE_SCORING)
        run.step("dbt build (features)")
        due = _training_due(staged, max_model_age_days, train_settings)
        if run.forgotten:
            due = f"erasure of {len(run.forgotten)} users: the model must not have seen them"
        reason = "--retrain" if retrain else due
        if reason:
            _say(f"training: {reason}")
            outcome["trained"] = _train(staged, train_settings)
        else:
            _say("training: latest model is fresh, skipped")
        run.step("train + export")
        if "trained" in outcome and evaluate_new_model:
            _evaluate(staged, EvaluateSettings())
            run.step("evaluate")
        summary = _recommend(staged, RecommendSettings(top_n=top_n))
        outcome["summary"] = summary
        run.step("recommend")
        _say("dbt build: recommendations and models")
        _build_outputs(run)
        _report(staged)
        run.step("report")
        return summary.run_id

    record = _publishing(paths, "nightly", body, settings, fresh=True)
    typer.echo(f"\nnightly summary ({record.run_id})")
    for step in record.steps:
        typer.echo(f"  {step['step']:<22} {step['seconds']:7.1f} s")
    typer.echo(f"  {'total':<22} {record.seconds or 0:7.1f} s")
    summary = outcome["summary"]
    assert isinstance(summary, RunSummary)
    result = outcome.get("trained")
    typer.echo(f"  model       {summary.model_id}" + (" (new)" if result else ""))
    if isinstance(result, TrainResult):
        for split, m in result.metrics.items():
            typer.echo(
                f"  {split:<6} split  AUC {m.auc:.3f}  precision {m.precision:.3f}  "
                f"recall {m.recall:.3f}  F1 {m.f1:.3f}"
            )
    typer.echo(
        f"  run         {summary.run_id}: {summary.users:,} users, "
        f"{summary.recommendations:,} rows, {summary.pairs_scored:,} pairs scored"
    )
    typer.echo(f"  rows        {record.row_counts}")
    typer.echo(f"  warehouse   {paths.warehouse_path}")
    typer.echo(f"  report      {paths.report_path}")


@app.command(name="rollback")
def rollback_command() -> None:
    """Publish the previous retained version again; the current one is dropped."""
    paths = Paths.from_env()
    record = RunRecord(run_id=new_run_id(), command="rollback", started_at=utc_now())
    try:
        with exclusive(paths, "rollback"):
            for line in clean_up(paths):
                _say(f"cleaned up: {line}")
            dropped, restored = rollback(paths)
            record.outcome, record.finished_at = "published", utc_now()
            record.error = f"rolled back from {dropped} to {restored}"
            write_run_record(paths, record)
    except (WarehouseBusyError, RuntimeError) as exc:
        raise _fail(str(exc)) from exc
    _say(f"published {restored} again (dropped {dropped}) -> {paths.warehouse_path}")


@app.command(name="forget-user")
def forget_user(
    user_ids: Annotated[list[int], typer.Argument(help="Ids of the users to erase.")],
) -> None:
    """Right to erasure: remove users from the landed files now, and from the warehouse,
    its retained versions and the model at the next nightly."""
    paths = Paths.from_env()
    try:
        with exclusive(paths, "forget-user"):
            request = request_erasure(paths, user_ids, _now())
    except WarehouseBusyError as exc:
        raise _fail(str(exc)) from exc
    _say(
        f"erasure {request.request_id}: {len(request.user_ids)} users, "
        f"{request.landed_rows_removed:,} landed rows removed; the next `movierec nightly` "
        "publishes a warehouse without them and deletes older versions"
    )


@app.command()
def runs(
    last: Annotated[int, typer.Option(help="How many of the latest runs to list.")] = 20,
) -> None:
    """The run log: every run that tried to publish, with its outcome."""
    typer.echo(describe(read_run_records(Paths.from_env())[-last:]))
