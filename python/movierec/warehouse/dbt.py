"""The edge where movierec runs dbt: the dbt beside this Python, on one installation."""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from movierec.errors import DbtError, DiskFullError, OutOfMemoryError
from movierec.progress import Progress
from movierec.settings import FEATURE_BATCH_ROWS_ENV, Engine, Paths
from movierec.warehouse.batches import BATCHED_MODEL, WINDOW_ENV, build_windows
from movierec.warehouse.incremental import BuildPlan
from movierec.warehouse.spark import SPARK_TARGET, spark_env

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# dbt's stderr holds Python warnings and, on a full disk, a traceback per log line it could
# not write to its log file (thousands); a failed run shows only its last lines
STDERR_TAIL = 20
NO_SPACE = "No space left on device"
OUT_OF_MEMORY = "Out of Memory Error"
# how dbt names the model a failure happened in: "Runtime Error in model NAME (path)"
FAILED_MODEL = re.compile(r"Error in model (\w+)")


# dbt selections: everything that does not read what the Python steps write, and the rest.
# The nightly's builds run models and their data tests; the unit tests (fixed inputs, nothing a
# night's data can change) run in the test suite and in `movierec build`, as dbt advises.
SKIP_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
BEFORE_PYTHON = ("--exclude", "source:ml_outputs+", *SKIP_UNIT_TESTS)
AFTER_PYTHON = ("--select", "source:ml_outputs+", *SKIP_UNIT_TESTS)


# dbt's artefacts (target/) of each engine, under the installation's data/dbt/
TARGET_DIRS: dict[Engine, str] = {"duckdb": "target", "spark": "spark-target"}


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


def relative_dbt_env(paths: Paths) -> dict[str, str]:
    """Where dbt finds the warehouse (profiles.yml) and the landed files (the landing
    sources), relative to the data folder, which dbt runs in. dbt parses the whole project
    again whenever the profile's warehouse path changes, and a source file again whenever
    an env var it reads does: relative paths stay the same from night to night and from one
    copy of an installation to another, so dbt reuses its parse."""
    return {
        "MOVIEREC_RAW_DIR": os.path.relpath(paths.raw_dir, paths.data_dir),
        "MOVIEREC_DUCKDB_PATH": os.path.relpath(paths.warehouse_path, paths.data_dir),
        # the same cap as movierec's own connections (profiles.yml: settings)
        "MOVIEREC_DUCKDB_MEMORY_LIMIT": paths.memory_limit,
    }


def as_dbt_reads(paths: Paths, landed_file: str) -> str:
    """A landed file's path as dbt's landing sources read it (their `filename`)."""
    return os.path.relpath(landed_file, paths.data_dir)


def run_dbt(
    paths: Paths,
    args: Sequence[str],
    *,
    check: bool = True,
    extra_env: Mapping[str, str] | None = None,
    engine: Engine = "duckdb",
    spark_dir: Path | None = None,
    variables: Mapping[str, object] | None = None,
) -> DbtResult:
    """Run dbt against this installation's warehouse on `engine` (profiles.yml's default
    DuckDB target, or its spark target on the version folder `spark_dir`), streaming its
    output; `extra_env` adds to its environment, `variables` to the installation's dbt
    vars (`paths.dbt_vars`), which every command gets.

    With `check`, a failure raises: DiskFullError or OutOfMemoryError when dbt's output
    says so (its stderr then stays unprinted), DbtError otherwise.
    """
    paths.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **relative_dbt_env(paths),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # per-installation dbt artefacts, so two warehouses never share target/, and per
        # engine, so switching engines does not make dbt parse the project again
        "DBT_TARGET_PATH": str(paths.data_dir / "dbt" / TARGET_DIRS[engine]),
        "DBT_LOG_PATH": str(paths.data_dir / "dbt" / "logs"),
        # dbt writes into a pipe now: line by line, so progress still streams
        "PYTHONUNBUFFERED": "1",
        # ml_training_features is one query unless a build in batches says otherwise
        WINDOW_ENV: "{}",
        **(spark_env(paths, spark_dir) if engine == "spark" else {}),
        **(extra_env or {}),
    }
    args = dbt_arguments(paths, args, engine, variables)
    process = subprocess.Popen(
        dbt_command(paths, args),
        env=env,
        cwd=paths.data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        preexec_fn=_die_with_parent,
    )
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None
    assert stderr is not None
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(stderr), daemon=True)
    reader.start()
    flags: set[str] = set()
    failed: set[str] = set()
    for line in stdout:
        sys.stdout.write(line)
        flags |= {flag for flag in (NO_SPACE, OUT_OF_MEMORY) if flag in line}
        failed |= set(FAILED_MODEL.findall(line))
    returncode = process.wait()
    reader.join()
    sys.stdout.flush()
    flags |= {flag for flag in (NO_SPACE, OUT_OF_MEMORY) if any(flag in e for e in errors)}
    command = f"dbt {' '.join(args)}"
    if check and returncode != 0 and NO_SPACE in flags:
        raise DiskFullError(f"{command}: {NO_SPACE}")
    if check and returncode != 0 and OUT_OF_MEMORY in flags:
        raise OutOfMemoryError(f" in `{command}`", paths.memory_limit, memory_advice(failed))
    shown = errors if returncode == 0 else errors[-STDERR_TAIL:]
    if len(shown) < len(errors):
        sys.stderr.write(f"(dbt wrote {len(errors):,} lines to stderr; the last {len(shown)}:)\n")
    sys.stderr.writelines(shown)
    if check and returncode != 0:
        raise DbtError(f"{command} failed (exit {returncode}); see above")
    return DbtResult(args=tuple(args), returncode=returncode)


def dbt_arguments(
    paths: Paths,
    args: Sequence[str],
    engine: Engine = "duckdb",
    variables: Mapping[str, object] | None = None,
) -> list[str]:
    """dbt's arguments: `args`, the engine's target, and the installation's dbt vars with
    `variables` over them (one `--vars`: dbt reads only the last)."""
    target = ["--target", SPARK_TARGET] if engine == "spark" else []
    dbt_vars = {**paths.dbt_vars, **(variables or {})}
    as_vars = ["--vars", json.dumps(dbt_vars, sort_keys=True)] if dbt_vars else []
    return [*args, *target, *as_vars]


def memory_advice(failed_models: set[str]) -> str:
    """What besides a higher memory_limit helps when dbt ran out of memory in
    `failed_models`: smaller ml_training_features batches, when that model failed."""
    if BATCHED_MODEL not in failed_models:
        return ""
    return (
        f"lower {FEATURE_BATCH_ROWS_ENV} (the viewings {BATCHED_MODEL} builds at a time; default: "
        "from the memory_limit), "
    )


def dbt_build(
    paths: Paths,
    scope: Sequence[str],
    plan: BuildPlan | None,
    landed: Sequence[str],
    progress: Progress,
) -> None:
    """`dbt build` of the models `scope` selects, as `plan` says (None: as they stand),
    building ml_training_features a window at a time when the viewings it must compute
    from the landed interaction files `landed` exceed one batch (warehouse/batches.py):
    the first window within the whole build, the middle ones alone, the last one with
    everything downstream of the model, whose tests then see all of its rows."""
    first, *rest = build_windows(paths, plan, landed)
    plan_args = plan.dbt_args if plan else ()
    if rest:
        progress(
            f"{BATCHED_MODEL}: {len(rest) + 1} batches of about "
            f"{paths.rows_per_feature_batch:,} viewings (docs/memory.md)"
        )
    run_dbt(paths, ["build", *scope, *plan_args], extra_env=first.env)
    if not rest:
        return
    *middle, last = rest
    for window in middle:
        run_dbt(paths, ["run", "--select", BATCHED_MODEL], extra_env=window.env)
    run_dbt(paths, ["build", "--select", f"{BATCHED_MODEL}+", *scope], extra_env=last.env)


def _die_with_parent() -> None:
    """In the dbt child: ask Linux to kill it when movierec dies, so a killed run never
    leaves dbt writing on behind it (a no-op elsewhere)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
