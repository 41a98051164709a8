"""Landing: check incoming tables against the raw contract and write immutable batches.

Every file under `data/raw/<entity>/` is written here, once, as `<batch_id>.parquet`
through a temporary file and an atomic rename, with Parquet page checksums, and recorded
in the landing manifest (`land.manifest`), so a landing is all there or not there and any
later change to its bytes is found before the next run uses them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from movierec.errors import Problem, RawContractError
from movierec.land.contract import TableSpec, bad_rows_sql, check_schema, check_values
from movierec.land.manifest import record_landed, verify_landed


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
        write_atomically(table, targets[entity])
    record_landed(raw_dir, targets, now)
    return targets


def write_atomically(table: pa.Table, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, tmp, compression="zstd", write_page_checksum=True)
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(target)


def landed_files(raw_dir: Path, entity: str) -> list[Path]:
    """The batch files of one entity, oldest first."""
    return sorted((raw_dir / entity).glob("*.parquet"))


@dataclass(frozen=True)
class LandedCheck:
    """What checking every landed file found.

    `file_problems` (unreadable files, wrong schemas) always stop a run; `row_problems`
    count rows breaking a value rule, and `bad_rows` lists them one per (row, rule), so a
    run may quarantine them instead.
    """

    file_problems: tuple[Problem, ...]
    row_problems: tuple[Problem, ...]
    bad_rows: pa.Table

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.file_problems + self.row_problems


BAD_ROWS_SCHEMA = pa.schema(
    [
        ("landed_file", pa.string()),
        ("file_row_number", pa.int64()),
        ("entity", pa.string()),
        ("column_name", pa.string()),
        ("problem", pa.string()),
        ("row_json", pa.string()),
    ]
)


def check_landed(raw_dir: Path, contract: Mapping[str, TableSpec], now: datetime) -> LandedCheck:
    """Check every landed file of every entity against the contract, in contract order.

    Every file is first verified against the landing manifest; one that changed since it
    landed (or never went through landing) is a file problem and is not read further.
    Keys an entity `references` must be those of valid rows (not breaking any rule) of an
    entity checked before it.
    """
    changed = verify_landed(raw_dir, tuple(contract))
    file_problems: list[Problem] = list(changed.values())
    row_problems: list[Problem] = []
    bad: list[pa.Table] = []
    known_keys: dict[str, str] = {}
    con = duckdb.connect()
    try:
        for entity, spec in contract.items():
            files = landed_files(raw_dir, entity)
            if not files:
                file_problems.append(
                    Problem(
                        str(raw_dir / entity), None, "no landed batch (run `movierec simulate`)"
                    )
                )
            readable = []
            for path in (f for f in files if f not in changed):
                problems = check_file_schema(path, spec)
                file_problems += problems
                if not problems:
                    readable.append(path)
            entity_bad: list[pa.Table] = []
            for path in readable:
                relation = parquet_relation(path)
                row_problems += check_values(con, relation, str(path), spec, now, known_keys)
                sql = bad_rows_sql(relation, in_file(spec, path), now, known_keys)
                if sql is not None:
                    rows = con.sql(sql).to_arrow_table()
                    entity_bad.append(
                        rows.add_column(0, "landed_file", pa.array([str(path)] * rows.num_rows))
                        .add_column(2, "entity", pa.array([entity] * rows.num_rows))
                        .cast(BAD_ROWS_SCHEMA)
                    )
            bad += entity_bad
            key = next((c.name for c in spec.columns if c.unique), None)
            if key is not None and readable:
                known_keys[entity] = _valid_keys(con, entity, key, readable, entity_bad)
    finally:
        con.close()
    bad_rows = pa.concat_tables(bad) if bad else BAD_ROWS_SCHEMA.empty_table()
    return LandedCheck(tuple(file_problems), tuple(row_problems), bad_rows)


def parquet_relation(path: Path | list[Path]) -> str:
    paths = path if isinstance(path, list) else [path]
    listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
    return f"read_parquet([{listed}], filename = true, file_row_number = true)"


def _valid_keys(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    key: str,
    files: list[Path],
    bad: list[pa.Table],
) -> str:
    """A temp table `valid_<entity>(key)`: keys of the entity's rows breaking no rule."""
    table = f"valid_{entity}"
    con.register("bad_rows", pa.concat_tables(bad) if bad else BAD_ROWS_SCHEMA.empty_table())
    con.execute(
        f"""create or replace temp table {table} as
        select distinct "{key}" as key from {parquet_relation(files)} as landed
        where not exists (
            select 1 from bad_rows
            where bad_rows.landed_file = landed.filename
                and bad_rows.file_row_number = landed.file_row_number
        )"""
    )
    con.unregister("bad_rows")
    return table


def validate_landed(
    raw_dir: Path, contract: Mapping[str, TableSpec], now: datetime
) -> list[Problem]:
    """Every problem of every landed file (see `check_landed`)."""
    return list(check_landed(raw_dir, contract, now).problems)


def in_file(spec: TableSpec, path: Path) -> TableSpec:
    """The contract's columns a landed file has: every one, but optional columns the
    contract gained after the file landed (their rules do not apply to it)."""
    names = set(pq.read_schema(path).names)
    return TableSpec(spec.name, tuple(c for c in spec.columns if c.name in names))


def check_file_schema(path: Path, spec: TableSpec) -> list[Problem]:
    """A landed Parquet file must be readable (every page's checksum, where it has them)
    and have the contract's schema: every column, but optional columns the contract
    gained after the file landed (landing writes every column, NULL where absent)."""
    try:
        schema = pq.read_schema(path)
        for _ in pq.ParquetFile(path, page_checksum_verification=True).iter_batches():
            pass
    except (pa.ArrowInvalid, OSError) as exc:
        return [
            Problem(str(path), None, f"not a readable Parquet file (truncated or corrupt?): {exc}")
        ]
    return check_schema(str(path), schema, spec, allow_missing_optional=True)


def validate_file(
    con: duckdb.DuckDBPyConnection, path: Path, spec: TableSpec, now: datetime
) -> list[Problem]:
    """Check one landed Parquet file: readable, exact schema, then value rules."""
    problems = check_file_schema(path, spec)
    if problems:
        return problems
    return check_values(con, parquet_relation(path), str(path), spec, now)
