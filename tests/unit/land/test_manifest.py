"""The landing manifest: landed bytes that change afterwards are found before any run."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from movierec.errors import RawContractError
from movierec.files import sha256_of
from movierec.land import (
    TableSpec,
    World,
    check_landed,
    land_batch,
    record_unlisted_files,
    request_erasure,
)
from movierec.settings import Paths

NOW = datetime(2025, 1, 1)
REPO = Path(__file__).resolve().parents[3]


def _landed(tmp_path: Path, world: World, contract: dict[str, TableSpec]) -> dict[str, Path]:
    return land_batch(world.as_dict(), contract, tmp_path, "b1", NOW)


def flip_bit(path: Path, at: float = 0.5) -> None:
    """Flip the lowest bit of the byte at `at` of the file's length, in place."""
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 1
    path.write_bytes(bytes(data))


def test_landing_records_each_file_sha256_size_and_rows(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    written = _landed(tmp_path, small_world, contract)
    manifest = json.loads((tmp_path / "_manifest" / "b1.json").read_text())
    assert sorted(manifest["files"]) == ["interactions", "movies", "users"]
    for entity, path in written.items():
        entry = manifest["files"][entity]
        assert entry["sha256"] == sha256_of(path)
        assert entry["size_bytes"] == path.stat().st_size
        assert entry["rows"] == small_world.as_dict()[entity].num_rows
    assert pq.ParquetFile(written["users"]).metadata.row_group(0).num_rows > 0


def test_a_flipped_bit_is_found_and_the_file_not_read(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    written = _landed(tmp_path, small_world, contract)
    recorded = sha256_of(written["interactions"])
    flip_bit(written["interactions"])
    check = check_landed(tmp_path, contract, NOW)
    (problem,) = check.problems
    assert problem.file == str(written["interactions"])
    assert problem.problem.startswith("changed after landing (bit rot or an edit): sha256 ")
    assert f"the manifest recorded {recorded[:16]}..." in problem.problem
    assert check.bad_rows.num_rows == 0


def test_a_file_that_did_not_come_through_landing_is_refused(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    written = _landed(tmp_path, small_world, contract)
    copied = tmp_path / "users" / "b2.parquet"
    copied.write_bytes(written["users"].read_bytes())
    (problem,) = check_landed(tmp_path, contract, NOW).problems
    assert problem.file == str(copied)
    assert problem.problem.startswith("not in the landing manifest")
    assert record_unlisted_files(tmp_path, ("users", "movies", "interactions"), NOW) == [copied]
    assert check_landed(tmp_path, contract, NOW).problems == ()


def test_a_recorded_file_that_is_gone_is_reported(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    written = _landed(tmp_path, small_world, contract)
    written["movies"].unlink()
    problems = {p.file: p.problem for p in check_landed(tmp_path, contract, NOW).file_problems}
    assert problems[str(tmp_path / "movies")].startswith("no landed batch")
    assert problems[str(written["movies"])].startswith("recorded in ")
    assert problems[str(written["movies"])].endswith("but missing (deleted?)")
    assert len(problems) == 2


def test_erasure_rewrites_through_the_manifest_and_refuses_damaged_files(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    paths = Paths(project_dir=REPO, data_dir=tmp_path, warehouse_path=tmp_path / "w.duckdb")
    written = land_batch(small_world.as_dict(), contract, paths.raw_dir, "b1", NOW)
    before = sha256_of(written["interactions"])
    request_erasure(paths, [1, 2], NOW)
    assert sha256_of(written["interactions"]) != before
    assert check_landed(paths.raw_dir, contract, NOW).problems == ()

    flip_bit(written["movies"])
    with pytest.raises(RawContractError, match="changed after landing"):
        request_erasure(paths, [3], NOW)


def test_a_damaged_manifest_is_named(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    _landed(tmp_path, small_world, contract)
    manifest = tmp_path / "_manifest" / "b1.json"
    manifest.write_text(manifest.read_text()[:-40])
    with pytest.raises(RawContractError, match=r"_manifest/b1.json: landing manifest unreadable"):
        check_landed(tmp_path, contract, NOW)
