"""Floor 5: what each command does, as plain functions of typed settings (no Typer).
The nightly and its retraining policy, the single steps, landing, and operations."""

from movierec.flows.land import (
    Landing,
    forget_users,
    ingest_movielens,
    simulate,
    simulate_days,
    validate,
)
from movierec.flows.nightly import NightlyResult, nightly, training_due
from movierec.flows.ops import latest_runs, promote, roll_back
from movierec.flows.publish import AUDITED_TABLES, Run, carried_tables, warehouse_run
from movierec.flows.spark import SparkRun, spark_build, spark_nightly
from movierec.flows.steps import build, evaluate, recommend_step, report, train

__all__ = [
    "AUDITED_TABLES",
    "Landing",
    "NightlyResult",
    "Run",
    "SparkRun",
    "build",
    "carried_tables",
    "evaluate",
    "forget_users",
    "ingest_movielens",
    "latest_runs",
    "nightly",
    "promote",
    "recommend_step",
    "report",
    "roll_back",
    "simulate",
    "simulate_days",
    "spark_build",
    "spark_nightly",
    "train",
    "training_due",
    "validate",
    "warehouse_run",
]
