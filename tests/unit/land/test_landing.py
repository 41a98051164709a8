"""Landing writes immutable, checked batches and refuses bad input with a clear error."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movierec.errors import RawContractError
from movierec.land import (
    TableSpec,
    World,
    check_landed,
    land_batch,
    landed_files,
    new_batch_id,
    record_landed,
    validate_landed,
)
from movierec.land.landing import conform, validate_file

NOW = datetime(2025, 1, 1)


def _land(
    world: World, contract: dict[str, TableSpec], raw: Path, batch: str = "b1"
) -> dict[str, Path]:
    return land_batch(world.as_dict(), contract, raw, batch, NOW)


def test_land_writes_one_file_per_entity(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    """Each entity lands as raw/<entity>/<batch>.parquet with the full contract schema."""
    written = _land(small_world, contract, tmp_path)
    assert written == {e: tmp_path / e / "b1.parquet" for e in ("users", "movies", "interactions")}
    users = pq.read_table(written["users"])
    assert users.schema == contract["users"].arrow_schema
    assert users.column("gender").null_count == users.num_rows  # absent optional -> NULL
    assert validate_landed(tmp_path, contract, NOW) == []


def test_landed_batches_are_never_rewritten(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    """Landing the same batch id twice fails and leaves the first file as it was."""
    written = _land(small_world, contract, tmp_path)
    before = written["users"].read_bytes()
    with pytest.raises(FileExistsError, match="immutable"):
        _land(small_world, contract, tmp_path)
    assert written["users"].read_bytes() == before


def test_batch_ids_sort_by_landing_time() -> None:
    """A later landing gets a greater id, which staging uses to pick the newest row."""
    assert new_batch_id(datetime(2024, 1, 2)) > new_batch_id(datetime(2024, 1, 1, 23, 59))


def test_bad_table_lands_nothing(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    """A duplicate user id refuses the whole batch: no entity is written."""
    users = small_world.users
    ids = users.column("user_id").to_pylist()
    ids[1] = ids[0]
    bad = World(
        users=users.set_column(0, "user_id", pa.array(ids, pa.int64())),
        movies=small_world.movies,
        interactions=small_world.interactions,
    )
    with pytest.raises(RawContractError, match=r"column 'user_id': duplicate values \(2 rows\)"):
        _land(bad, contract, tmp_path)
    assert not any(tmp_path.rglob("*.parquet"))


def test_incoming_wrong_type_names_the_column(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    """Ages as text cannot be cast to double: the error says which column and why."""
    users = small_world.users.set_column(1, "age", pa.array(["old"] * small_world.users.num_rows))
    bad = World(users=users, movies=small_world.movies, interactions=small_world.interactions)
    with pytest.raises(
        RawContractError, match=r"incoming users batch b1: column 'age': wrong type"
    ):
        _land(bad, contract, tmp_path)


def _write_variant(tmp_path: Path, table: pa.Table) -> Path:
    path = tmp_path / "users" / "variant.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def _validate(path: Path, contract: dict[str, TableSpec]) -> list[str]:
    return [str(p) for p in validate_file(duckdb.connect(), path, contract["users"], NOW)]


def test_landed_file_missing_column(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    """A landed file without `age` is reported with its path and the column."""
    _land(small_world, contract, tmp_path)
    table = pq.read_table(landed_files(tmp_path, "users")[0]).drop_columns(["age"])
    path = _write_variant(tmp_path, table)
    assert _validate(path, contract) == [f"{path}: column 'age': missing column"]


def test_landed_file_wrong_type(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    """user_id stored as text is a type error on that column."""
    _land(small_world, contract, tmp_path)
    table = pq.read_table(landed_files(tmp_path, "users")[0])
    table = table.set_column(0, "user_id", table.column("user_id").cast(pa.string()))
    path = _write_variant(tmp_path, table)
    assert _validate(path, contract) == [
        f"{path}: column 'user_id': wrong type: string, expected bigint"
    ]


def test_landed_file_null_ids(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    """NULL keys are counted."""
    _land(small_world, contract, tmp_path)
    table = pq.read_table(landed_files(tmp_path, "users")[0])
    ids = table.column("user_id").to_pylist()
    ids[:3] = [None, None, None]
    path = _write_variant(tmp_path, table.set_column(0, "user_id", pa.array(ids, pa.int64())))
    assert _validate(path, contract) == [f"{path}: column 'user_id': NULL values (3 rows)"]


def test_truncated_file(tmp_path: Path, small_world: World, contract: dict[str, TableSpec]) -> None:
    """A file cut short in transfer is reported as unreadable, naming the file."""
    written = _land(small_world, contract, tmp_path)
    data = written["users"].read_bytes()
    path = tmp_path / "users" / "truncated.parquet"
    path.write_bytes(data[: len(data) // 2])
    (message,) = _validate(path, contract)
    assert message.startswith(f"{path}: not a readable Parquet file")


def test_no_landing_at_all(tmp_path: Path, contract: dict[str, TableSpec]) -> None:
    """An empty raw folder tells the operator to simulate or land data first."""
    problems = validate_landed(tmp_path, contract, NOW)
    assert [p.file for p in problems] == [
        str(tmp_path / e) for e in ("users", "movies", "interactions")
    ]
    assert all("no landed batch" in p.problem for p in problems)


def test_check_landed_lists_each_bad_row_and_follows_references(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    """A user aged 200 is a bad row; their viewings then refer to no valid user."""
    _land(small_world, contract, tmp_path)
    users = small_world.users.slice(0, 2)
    users = users.set_column(0, "user_id", pa.array([9_001, 9_002], pa.int64()))
    users = users.set_column(1, "age", pa.array([200.0, 30.0]))
    viewings = small_world.interactions.slice(0, 3)
    viewings = viewings.set_column(
        viewings.schema.get_field_index("user_id"), "user_id", pa.array([9_001, 9_002, 9_003])
    )
    for entity, table in (("users", users), ("interactions", viewings)):
        # written past land_batch's checks, which would refuse it (as under an older,
        # looser contract), and recorded as landed
        target = tmp_path / entity / "b2.parquet"
        pq.write_table(conform(table, contract[entity], entity)[0], target)
        record_landed(tmp_path, {entity: target}, NOW)

    check = check_landed(tmp_path, contract, NOW)
    assert check.file_problems == ()
    assert [(p.file, p.column, p.problem, p.bad_rows) for p in check.row_problems] == [
        (str(tmp_path / "users" / "b2.parquet"), "age", "values above 110", 1),
        (
            str(tmp_path / "interactions" / "b2.parquet"),
            "user_id",
            "unknown users: no valid landed users row has this key",
            2,
        ),
    ]
    bad = check.bad_rows.select(["entity", "file_row_number", "column_name"]).to_pylist()
    assert bad == [
        {"entity": "users", "file_row_number": 0, "column_name": "age"},
        {"entity": "interactions", "file_row_number": 0, "column_name": "user_id"},
        {"entity": "interactions", "file_row_number": 2, "column_name": "user_id"},
    ]
    assert '"age":200.0' in check.bad_rows["row_json"][0].as_py()
