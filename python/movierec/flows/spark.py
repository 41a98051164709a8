"""The warehouse on Apache Spark (docs/spark.md): the landed files checked as for DuckDB,
then the same dbt models built and tested by dbt's spark target, from all landed files."""

from __future__ import annotations

import time
from collections.abc import Callable

from movierec.errors import SettingsError
from movierec.flows.publish import check_landing
from movierec.settings import BadRows, Paths
from movierec.warehouse import BEFORE_PYTHON, run_dbt

Progress = Callable[[str], None]


def spark_build(
    paths: Paths, select: str | None, on_bad_rows: BadRows, progress: Progress
) -> float:
    """Check the landed files and `dbt build` the landed-data models (those that read
    nothing the Python steps write), or `select`, on Spark; return the build's seconds.

    Always a full refresh: incremental builds, quarantine and publishing are DuckDB's only
    (docs/spark.md). Raises RawContractError on a bad landed file, DbtError when a model
    or test fails."""
    if on_bad_rows != "fail":
        raise SettingsError("--on-bad-rows quarantine: not available on the spark engine yet")
    check_landing(paths, on_bad_rows)
    scope = ["--select", select] if select else list(BEFORE_PYTHON)
    started = time.perf_counter()
    run_dbt(paths, ["build", "--full-refresh", *scope], engine="spark")
    seconds = time.perf_counter() - started
    progress(f"built the Spark warehouse in {seconds:.1f} s -> {paths.spark_dir}")
    return seconds
