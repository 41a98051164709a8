"""The edge where movierec runs dbt: the dbt beside this Python, on one installation."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from movierec.errors import DbtError
from movierec.settings import Paths

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


# dbt selections: everything that does not read what the Python steps write, and the rest.
BEFORE_PYTHON = ("--exclude", "source:ml_outputs+")
AFTER_PYTHON = ("--select", "source:ml_outputs+")


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
