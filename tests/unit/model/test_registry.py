"""The registry: model files written whole, records that round-trip, and a scorer that
refuses an ONNX file other than the registered one."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pytest

from movierec.errors import DamagedFileError, NoDataError
from movierec.model import (
    ModelRecord,
    fit_forest,
    insert_model,
    latest_model,
    load_scorer,
    new_model_id,
    registered_model,
    sha256_of,
    to_onnx,
    write_model_files,
)
from movierec.settings import ForestParams
from tests.conftest import create_ml_outputs


def _onnx() -> bytes:
    rng = np.random.default_rng(1)
    features = rng.random((200, 2)).astype(np.float32)
    labels = (features[:, 0] > 0.5).astype(np.int8)
    return to_onnx(fit_forest(features, labels, ForestParams(n_estimators=3, n_jobs=1)), 2)


def _record(models_dir: Path, created_at: datetime, onnx: bytes) -> ModelRecord:
    model_id = new_model_id(created_at, onnx)
    path = write_model_files(models_dir, model_id, onnx, {"note": "test"})
    return ModelRecord(
        model_id=model_id, created_at=created_at, feature_set="all", features=("a", "b"),
        params={"n_estimators": 3}, trained_from=created_at, trained_through=created_at,
        training_rows=200, onnx_path=str(path), onnx_sha256=sha256_of(path),
        agreement_max_abs_diff=0.0, agreement_rows=200,
    )  # fmt: skip


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_ml_outputs(con)
    return con


def test_no_model_yet_is_said_plainly(con: duckdb.DuckDBPyConnection) -> None:
    assert latest_model(con) is None
    with pytest.raises(NoDataError, match="run `movierec train` first"):
        registered_model(con)


def test_the_latest_record_round_trips_with_its_metrics(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    onnx = _onnx()
    older = _record(tmp_path, datetime(2024, 12, 1), onnx)
    newer = _record(tmp_path, datetime(2024, 12, 2), onnx)
    insert_model(con, older, {"time": {"auc": 0.7}})
    insert_model(con, newer, {"time": {"auc": 0.8}, "random": {"auc": 0.75}})
    assert registered_model(con) == newer
    assert newer.model_id.startswith("m20241202T000000-")
    metrics = con.execute(
        "select split, metric, value from ml_outputs.model_metrics where model_id = ? "
        "order by split",
        [newer.model_id],
    ).fetchall()
    assert metrics == [("random", "auc", 0.75), ("time", "auc", 0.8)]


def test_model_files_are_written_once(tmp_path: Path) -> None:
    onnx = _onnx()
    record = _record(tmp_path, datetime(2024, 12, 1), onnx)
    assert sorted(p.name for p in (tmp_path / record.model_id).iterdir()) == [
        "metadata.json",
        "model.onnx",
    ]
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(FileExistsError):
        write_model_files(tmp_path, record.model_id, onnx, {})


def test_the_scorer_refuses_a_file_changed_after_registration(tmp_path: Path) -> None:
    record = _record(tmp_path, datetime(2024, 12, 1), _onnx())
    assert load_scorer(record).n_features == 2
    path = Path(record.onnx_path)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(DamagedFileError, match="does not match the sha256 registered"):
        load_scorer(record)
