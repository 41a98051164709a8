"""Connections to the warehouse and the SQL files shipped in the package."""

from __future__ import annotations

from functools import cache
from importlib import resources

import duckdb
import polars as pl

from movierec.errors import NoDataError
from movierec.settings import Paths, parse_size

# How much write-ahead log DuckDB lets grow before it checkpoints (default 16 MB). Scoring
# rewrites its requests a chunk at a time (about 4 MB of log a chunk), and each checkpoint
# costs seconds that grow with the warehouse: at 10x, 6-9 s every 4th chunk of 58 under the
# default (docs/scoring.md). The log lives beside the file until the connection closes.
CHECKPOINT_THRESHOLD = "1GiB"


def connect(paths: Paths, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse under the installation's memory_limit, spilling beside the file and
    checkpointing after CHECKPOINT_THRESHOLD of log; close it before dbt runs (DuckDB admits
    one writing process)."""
    if not paths.warehouse_path.exists():
        raise NoDataError(f"no warehouse at {paths.warehouse_path}: run `movierec build` first")
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": paths.memory_limit,
        "temp_directory": str(paths.spill_dir(paths.warehouse_path)),
        "checkpoint_threshold": CHECKPOINT_THRESHOLD,
    }
    return duckdb.connect(str(paths.warehouse_path), read_only=read_only, config=config)


def query_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None
) -> pl.DataFrame:
    """The result of `sql` as a polars frame, through Arrow."""
    frame = pl.from_arrow(con.sql(sql, params=params or {}).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def memory_limit(con: duckdb.DuckDBPyConnection) -> int:
    """The memory_limit of `con`'s DuckDB, in bytes."""
    (setting,) = con.execute("select current_setting('memory_limit')").fetchall()[0]
    return parse_size(str(setting), "DuckDB's memory_limit")


@cache
def sql_file(package: str, name: str) -> str:
    """The text of `name`.sql in the `sql/` folder of `package` (linted by sqlfluff)."""
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text()


def empty_afresh(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Empty the scratch table `table` by recreating it with its own columns. A delete
    leaves the old rows in the table until DuckDB next checkpoints (after 1 GiB of log,
    `connect`), and DuckDB's row estimates count them: after 45 scoring chunks at 100x the
    planner saw 24M requests for 524,200, chose other plans, and each chunk took longer than
    the last."""
    con.execute(f"create or replace table {table} as from {table} limit 0")
