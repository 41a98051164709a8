"""Erasure rewrites the landed files without the users and logs no id once applied."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from movierec.evaluation.holdout import hold_out_per_user
from movierec.land import (
    TableSpec,
    World,
    complete_erasures,
    erasure_log,
    land_batch,
    landed_files,
    log_entries,
    pending_erasures,
    request_erasure,
    write_atomically,
)
from movierec.settings import Paths

NOW = datetime(2025, 1, 1)


def test_forgetting_rewrites_landings_and_keeps_only_counts(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    paths = Paths(project_dir=tmp_path, data_dir=tmp_path, warehouse_path=tmp_path / "w.duckdb")
    land_batch(small_world.as_dict(), contract, paths.raw_dir, "b1", NOW)
    views = small_world.interactions.column("user_id")
    expected = 2 + pc.sum(pc.is_in(views, value_set=small_world.users["user_id"][:2])).as_py()
    movies_before = landed_files(paths.raw_dir, "movies")[0].read_bytes()

    request = request_erasure(paths, [1, 2, 2], NOW)

    assert request.user_ids == (1, 2)
    assert request.landed_rows_removed == expected
    for entity in ("users", "interactions"):
        ids = pq.read_table(landed_files(paths.raw_dir, entity)[0])["user_id"].to_pylist()
        assert not {1, 2} & set(ids)
    assert landed_files(paths.raw_dir, "movies")[0].read_bytes() == movies_before
    assert pending_erasures(paths) == [request]

    entries = log_entries([request], datetime(2025, 1, 2), "run-1")
    complete_erasures(paths, entries)
    assert pending_erasures(paths) == []
    (line,) = (paths.erasure_dir / "log.jsonl").read_text().splitlines()
    assert "user_ids" not in json.loads(line)
    assert erasure_log(paths) == [
        {
            "request_id": request.request_id,
            "requested_at": NOW,
            "users": 2,
            "landed_rows_removed": expected,
            "applied_at": datetime(2025, 1, 2),
            "applied_by_run": "run-1",
        }
    ]


def test_forgetting_reaches_the_held_out_interactions(
    tmp_path: Path, small_world: World, contract: dict[str, TableSpec]
) -> None:
    """Ratings held out at ingest for the random split are user data too."""
    paths = Paths(project_dir=tmp_path, data_dir=tmp_path, warehouse_path=tmp_path / "w.duckdb")
    kept, held_out = hold_out_per_user(small_world.interactions, 2, seed=1)
    land_batch({**small_world.as_dict(), "interactions": kept}, contract, paths.raw_dir, "b", NOW)
    write_atomically(held_out, paths.holdout_path)
    held_by_user_1 = pc.sum(pc.equal(held_out["user_id"], 1)).as_py()
    assert held_by_user_1 == 2

    request = request_erasure(paths, [1], NOW)

    remaining = pq.read_table(paths.holdout_path)
    assert 1 not in remaining["user_id"].to_pylist()
    assert remaining.num_rows == held_out.num_rows - 2
    landed_views = pc.sum(pc.equal(kept["user_id"], 1)).as_py()
    assert request.landed_rows_removed == 1 + landed_views + 2
