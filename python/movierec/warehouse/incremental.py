"""Incremental builds: whether a run may build the landed-data models on a copy of the
published warehouse, processing only the landed files it has not built (docs/incremental.md).

A warehouse records what it was built from in `ops.landed_batches` (every landed file and
its checksum, the new ones flagged) and `ops.warehouse_build` (the run, the mode, the dbt
project's fingerprint). The dbt models that grow with history read the flags
(dbt_project/macros/incremental.sql). A build is incremental only when new landed files can
only add: the project, the files already built and their quarantined rows are unchanged,
new files sort after the built ones (the newest batch wins a re-delivered row), and no new
file re-delivers a user, film or viewing already built. Anything else refreshes fully, and
says why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb

from movierec.files import sql_path

# What a landed batch keys on, per entity: a new file holding a key already built is a
# re-delivery, which changes rows an incremental build would not revisit.
ENTITY_KEYS: Mapping[str, str] = {
    "users": "user_id",
    "movies": "movie_id",
    "interactions": "interaction_id",
}
# The dbt project files whose change can change what the models build.
FINGERPRINTED = ("dbt_project.yml", "models", "macros")

Mode = Literal["incremental", "full refresh"]


@dataclass(frozen=True)
class LandedBatch:
    """One landed file as this run finds it."""

    landed_file: str  # as dbt's landing sources read it: raw/<entity>/<batch_id>.parquet
    entity: str
    sha256: str


@dataclass(frozen=True)
class BuiltFrom:
    """What a warehouse records about the landed files and project it was built from."""

    files: Mapping[str, str]  # landed_file -> sha256
    project_fingerprint: str
    quarantined: frozenset[tuple[str, int]]  # (landed_file, file_row_number)


@dataclass(frozen=True)
class BuildPlan:
    """How this run builds the landed-data models."""

    mode: Mode
    reason: str | None  # why a full refresh; None when incremental
    new_files: frozenset[str]

    @property
    def incremental(self) -> bool:
        return self.mode == "incremental"

    @property
    def dbt_args(self) -> tuple[str, ...]:
        """dbt's flag for this plan (a full refresh on a copy rebuilds incremental models)."""
        return () if self.incremental else ("--full-refresh",)


def project_fingerprint(dbt_project_dir: Path) -> str:
    """sha256 over the dbt project's files that define what its models build."""
    digest = hashlib.sha256()
    for name in FINGERPRINTED:
        root = dbt_project_dir / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            digest.update(path.relative_to(dbt_project_dir).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def plan_build(
    built: BuiltFrom | None,
    landed: Sequence[LandedBatch],
    fingerprint: str,
    quarantined: Collection[tuple[str, int]],
    requested: str | None = None,
) -> BuildPlan:
    """Incremental when nothing but new landed files changed since `built` (see the module
    doc; the re-delivery check needs the data: `redelivered`). `requested`: a reason to
    refresh fully regardless (--full-refresh, an erasure)."""
    built_files = built.files if built else {}
    new = frozenset(b.landed_file for b in landed if b.landed_file not in built_files)

    def full(reason: str) -> BuildPlan:
        return BuildPlan(mode="full refresh", reason=reason, new_files=new)

    if requested:
        return full(requested)
    if built is None:
        return full("the published warehouse records no build to continue from")
    if built.project_fingerprint != fingerprint:
        return full("the dbt project changed since the published warehouse was built")
    current = {b.landed_file: b.sha256 for b in landed}
    for landed_file, sha256 in sorted(built.files.items()):
        if landed_file not in current:
            return full(f"{landed_file} was built but is no longer landed")
        if current[landed_file] != sha256:
            return full(f"{landed_file} changed since it was built (sha256 differs)")
    for batch in sorted(landed, key=lambda b: b.landed_file):
        older = [f for f in built.files if _entity(f) == batch.entity]
        if (
            batch.landed_file in new
            and older
            and Path(batch.landed_file).name < max(Path(f).name for f in older)
        ):
            return full(
                f"{batch.landed_file} sorts before a batch already built: the newest batch "
                "must win a re-delivered row"
            )
    now_quarantined = {q for q in quarantined if q[0] in built.files}
    if now_quarantined != set(built.quarantined):
        return full("the quarantined rows of files already built changed")
    return BuildPlan(mode="incremental", reason=None, new_files=new)


def _entity(landed_file: str) -> str:
    return Path(landed_file).parent.name


def read_built_from(warehouse: Path) -> BuiltFrom | None:
    """What the warehouse file at `warehouse` was built from (None: no file, or one built
    before it recorded this)."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'ops'"
            ).fetchall()
        }
        if not {"landed_batches", "warehouse_build", "quarantined_rows"} <= tables:
            return None
        rows = con.execute("select project_fingerprint from ops.warehouse_build").fetchall()
        if len(rows) != 1:
            return None
        files = dict(con.execute("select landed_file, sha256 from ops.landed_batches").fetchall())
        quarantined = frozenset(
            (str(f), int(n))
            for f, n in con.execute(
                "select distinct landed_file, file_row_number from ops.quarantined_rows"
            ).fetchall()
        )
    return BuiltFrom(files=files, project_fingerprint=rows[0][0], quarantined=quarantined)


def redelivered(
    con: duckdb.DuckDBPyConnection, data_dir: Path, new_files: Collection[str]
) -> str | None:
    """Why the new files cannot be added incrementally to the warehouse `con` holds (a copy
    of the published one): the first new file re-delivering a key its staging tables hold."""
    for landed_file in sorted(new_files):
        entity = _entity(landed_file)
        key = ENTITY_KEYS[entity]
        found = con.execute(
            f"select count(*), min({key}) from read_parquet('{sql_path(data_dir / landed_file)}') "
            f"where {key} in (select {key} from staging.stg_landing__{entity})"
        ).fetchall()[0]
        if found[0]:
            return (
                f"{landed_file} re-delivers {found[0]:,} {entity} already built "
                f"(column {key}, e.g. {found[1]})"
            )
    return None


def record_build(
    con: duckdb.DuckDBPyConnection,
    plan: BuildPlan,
    landed: Sequence[LandedBatch],
    run_id: str,
    fingerprint: str,
    started_at: datetime,
) -> None:
    """Rewrite ops.landed_batches and ops.warehouse_build in the build `con` holds (the
    tables exist: `create_tables` with the ops source's definitions)."""
    con.execute("delete from ops.landed_batches")
    con.executemany(
        "insert into ops.landed_batches (landed_file, entity, sha256, is_new) values (?, ?, ?, ?)",
        [[b.landed_file, b.entity, b.sha256, b.landed_file in plan.new_files] for b in landed],
    )
    con.execute("delete from ops.warehouse_build")
    con.execute(
        "insert into ops.warehouse_build (run_id, built_at, mode, reason, project_fingerprint, "
        "new_files) values (?, ?, ?, ?, ?, ?)",
        [run_id, started_at, plan.mode, plan.reason, fingerprint, len(plan.new_files)],
    )
