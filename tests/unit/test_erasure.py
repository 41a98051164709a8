"""Erasure rewrites the landed files without the users and logs no id once applied."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from movierec.config import Paths
from movierec.contract import TableSpec
from movierec.erasure import (
    complete_erasures,
    erasure_log,
    log_entries,
    pending_erasures,
    request_erasure,
)
from movierec.landing import land_batch, landed_files
from movierec.simulate import World

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
