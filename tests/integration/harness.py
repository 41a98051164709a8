"""Helpers for running the real CLI against a throwaway data folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl

from movierec.settings import Paths
from movierec.warehouse import query_frame

REPO = Path(__file__).resolve().parents[2]
# The small world every integration test shares.
N_USERS, N_MOVIES, N_INTERACTIONS = 300, 60, 4_000


def paths_for(data_dir: Path) -> Paths:
    """An installation whose data and warehouse live under `data_dir`."""
    return Paths(
        project_dir=REPO, data_dir=data_dir, warehouse_path=data_dir / "warehouse" / "w.duckdb"
    )


def run_cli(
    paths: Paths,
    *args: str,
    config: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m movierec ARGS` with the environment pointing at `paths` (and at a
    settings file other than the project's movierec.toml, when given), plus `extra_env`."""
    env = {
        **os.environ,
        "MOVIEREC_PROJECT_DIR": str(paths.project_dir),
        **paths.dbt_env(),
        **(extra_env or {}),
    }
    if config is not None:
        env["MOVIEREC_CONFIG"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "movierec", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def query(paths: Paths, sql: str) -> pl.DataFrame:
    """Run SQL on the warehouse through a read-only connection, as an analyst would."""
    with duckdb.connect(str(paths.warehouse_path), read_only=True) as con:
        return query_frame(con, sql)


def simulated_and_built(paths: Paths) -> subprocess.CompletedProcess[str]:
    """Land the tests' small world (seed 11) and run `movierec nightly` on it."""
    simulated = run_cli(
        paths, "simulate", "--users", str(N_USERS), "--movies", str(N_MOVIES),
        "--interactions", str(N_INTERACTIONS), "--seed", "11",
    )  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr
    nightly = run_cli(paths, "nightly")
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    return nightly


def clone(installation: tuple[Paths, float] | Paths, tmp_path: Path) -> Paths:
    """A private copy made of hard links (cheap, and the published file stays the same
    inode as its version); movierec only ever replaces files, so the original is safe.
    dbt's artefacts are copied: dbt rewrites them in place, and a clone reuses the
    original's parse of the project.
    A test that changes a file in place must copy it first (`own_copy`)."""
    source = installation if isinstance(installation, Paths) else installation[0]
    target = tmp_path / "data"
    artefacts = source.data_dir / "dbt"

    def link(src: str, dst: str) -> None:
        # dbt rewrites its artefacts (partial_parse.msgpack, manifest.json) in place
        (shutil.copy2 if Path(src).is_relative_to(artefacts) else os.link)(src, dst)

    shutil.copytree(
        source.data_dir, target, copy_function=link, ignore=shutil.ignore_patterns("*.lock")
    )
    return paths_for(target)


def own_copy(path: Path) -> None:
    """Replace a hard-linked file by a private copy of it (same bytes, new inode)."""
    copy = path.with_name(path.name + ".own")
    shutil.copyfile(path, copy)
    copy.replace(path)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
