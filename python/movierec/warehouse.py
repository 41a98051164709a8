"""The edge where movierec talks to dbt and DuckDB."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from movierec.config import Paths

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class DbtError(RuntimeError):
    """dbt exited non-zero; its own output says which model or test failed."""


@dataclass(frozen=True)
class DbtResult:
    args: tuple[str, ...]
    returncode: int


def dbt_command(paths: Paths, args: Sequence[str]) -> list[str]:
    """The dbt command line for this installation (the dbt beside this Python)."""
    dbt = Path(sys.executable).with_name("dbt")
    return [
        str(dbt),
        *args,
        "--project-dir",
        str(paths.dbt_project_dir),
        "--profiles-dir",
        str(paths.project_dir),
    ]


def run_dbt(paths: Paths, args: Sequence[str], *, check: bool = True) -> DbtResult:
    """Run dbt against this installation's warehouse, streaming its output."""
    paths.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **paths.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # per-installation dbt artefacts, so two warehouses never share target/
        "DBT_TARGET_PATH": str(paths.data_dir / "dbt" / "target"),
        "DBT_LOG_PATH": str(paths.data_dir / "dbt" / "logs"),
    }
    completed = subprocess.run(
        dbt_command(paths, args),
        env=env,
        cwd=paths.project_dir,
        check=False,
        preexec_fn=_die_with_parent,
    )
    if check and completed.returncode != 0:
        raise DbtError(f"dbt {' '.join(args)} failed (exit {completed.returncode}); see above")
    return DbtResult(args=tuple(args), returncode=completed.returncode)


def _die_with_parent() -> None:
    """In the dbt child: ask Linux to kill it when movierec dies, so a killed run never
    leaves dbt writing on behind it (a no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def connect(paths: Paths, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; close it before dbt runs (DuckDB admits one writing process)."""
    if not paths.warehouse_path.exists():
        raise FileNotFoundError(
            f"no warehouse at {paths.warehouse_path}: run `movierec build` first"
        )
    # Cap DuckDB's memory so large scoring joins spill to disk rather than grow the process
    # (DuckDB's own default is 80 % of the machine).
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get("MOVIEREC_DUCKDB_MEMORY_LIMIT", "2GB")
    }
    return duckdb.connect(str(paths.warehouse_path), read_only=read_only, config=config)


def query_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None
) -> pl.DataFrame:
    """The result of `sql` as a polars frame, through Arrow."""
    frame = pl.from_arrow(con.sql(sql, params=params or {}).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame
