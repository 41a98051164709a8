"""Landing: check incoming tables against the raw contract and write immutable batches.

Every file under `data/raw/<entity>/` is written here, once, as `<batch_id>.parquet`
through a temporary file and an atomic rename, so a landing is all there or not there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from movierec.contract import (
    Problem,
    RawContractError,
    TableSpec,
    check_schema,
    check_values,
)


def new_batch_id(now: datetime | None = None) -> str:
    """A sortable batch id from the landing time (UTC, microseconds)."""
    moment = now or datetime.now(UTC)
    return moment.strftime("%Y%m%dT%H%M%S%fZ")


def conform(table: pa.Table, spec: TableSpec, label: str) -> tuple[pa.Table, list[Problem]]:
    """Cast an incoming table to the contract's schema; absent optional columns become NULL."""
    problems = [
        p
        for p in check_schema(label, table.schema, spec, allow_missing_optional=True)
        if not p.problem.startswith("wrong type")
    ]
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for column in spec.columns:
        if column.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, column.arrow_type))
            continue
        try:
            arrays.append(table.column(column.name).cast(column.arrow_type, safe=True))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            actual = table.schema.field(column.name).type
            problems.append(
                Problem(
                    label, column.name, f"wrong type: {actual}, expected {column.data_type} ({exc})"
                )
            )
            arrays.append(pa.nulls(table.num_rows, column.arrow_type))
    return pa.Table.from_arrays(arrays, schema=spec.arrow_schema), problems


def land_batch(
    tables: Mapping[str, pa.Table],
    contract: Mapping[str, TableSpec],
    raw_dir: Path,
    batch_id: str,
    now: datetime,
) -> dict[str, Path]:
    """Check every table, then write each as `raw_dir/<entity>/<batch_id>.parquet`.

    Nothing is written unless every table passes; an existing batch file is never replaced.
    """
    problems: list[Problem] = []
    conformed: dict[str, pa.Table] = {}
    con = duckdb.connect()
    try:
        for entity, table in tables.items():
            if entity not in contract:
                raise ValueError(f"unknown entity {entity!r}; the contract has {sorted(contract)}")
            label = f"incoming {entity} batch {batch_id}"
            conformed[entity], schema_problems = conform(table, contract[entity], label)
            problems += schema_problems
            con.register("incoming", conformed[entity])
            problems += check_values(con, "incoming", label, contract[entity], now)
            con.unregister("incoming")
    finally:
        con.close()
    if problems:
        raise RawContractError(problems)

    targets = {entity: raw_dir / entity / f"{batch_id}.parquet" for entity in conformed}
    clashes = [str(t) for t in targets.values() if t.exists()]
    if clashes:
        raise FileExistsError(f"landed batches are immutable and already exist: {clashes}")
    for entity, table in conformed.items():
        _write_atomically(table, targets[entity])
    return targets


def _write_atomically(table: pa.Table, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(target)


def landed_files(raw_dir: Path, entity: str) -> list[Path]:
    """The batch files of one entity, oldest first."""
    return sorted((raw_dir / entity).glob("*.parquet"))


def validate_landed(
    raw_dir: Path, contract: Mapping[str, TableSpec], now: datetime
) -> list[Problem]:
    """Check every landed file of every entity against the contract."""
    problems: list[Problem] = []
    con = duckdb.connect()
    try:
        for entity, spec in contract.items():
            files = landed_files(raw_dir, entity)
            if not files:
                problems.append(
                    Problem(
                        str(raw_dir / entity), None, "no landed batch (run `movierec simulate`)"
                    )
                )
            for path in files:
                problems += validate_file(con, path, spec, now)
    finally:
        con.close()
    return problems


def validate_file(
    con: duckdb.DuckDBPyConnection, path: Path, spec: TableSpec, now: datetime
) -> list[Problem]:
    """Check one landed Parquet file: readable, exact schema, then value rules."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        return [
            Problem(str(path), None, f"not a readable Parquet file (truncated or corrupt?): {exc}")
        ]
    problems = check_schema(str(path), schema, spec)
    if problems:
        return problems
    relation = "read_parquet('" + str(path).replace("'", "''") + "')"
    return check_values(con, relation, str(path), spec, now)
