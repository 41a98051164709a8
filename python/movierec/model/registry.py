"""The model registry: each model's ONNX file and metadata under data/models/<model_id>/,
and a row per model (plus its metrics) in the warehouse's ml_outputs schema."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from movierec.errors import DamagedFileError, NoDataError
from movierec.model.onnx import OnnxScorer


@dataclass(frozen=True)
class ModelRecord:
    """One registered model, as stored in ml_outputs.model_registry."""

    model_id: str
    created_at: datetime
    feature_set: str
    features: tuple[str, ...]
    params: dict[str, Any]
    trained_from: datetime
    trained_through: datetime
    training_rows: int
    onnx_path: str
    onnx_sha256: str
    agreement_max_abs_diff: float
    agreement_rows: int
    # the training mode's settings; {"mode": "explicit"} for models registered before modes
    training: dict[str, Any] = field(default_factory=lambda: {"mode": "explicit"})

    def row(self) -> list[object]:
        values = asdict(self)
        values["features"] = json.dumps(list(self.features))
        values["params"] = json.dumps(self.params, sort_keys=True)
        values["training"] = json.dumps(self.training, sort_keys=True)
        return list(values.values())


def new_model_id(created_at: datetime, onnx: bytes) -> str:
    """Sortable by creation time, unique by content."""
    return f"m{created_at:%Y%m%dT%H%M%S}-{hashlib.sha256(onnx).hexdigest()[:8]}"


def write_model_files(
    models_dir: Path, model_id: str, onnx: bytes, metadata: dict[str, Any]
) -> Path:
    """Write model.onnx and metadata.json into a new folder, atomically (rename of the folder)."""
    target = models_dir / model_id
    if target.exists():
        raise FileExistsError(f"model folder {target} already exists")  # ids are unique
    staging = models_dir / f".{model_id}.tmp"
    staging.mkdir(parents=True)
    (staging / "model.onnx").write_bytes(onnx)
    (staging / "metadata.json").write_text(json.dumps(metadata, indent=2, default=str) + "\n")
    for name in ("model.onnx", "metadata.json"):
        with (staging / name).open("rb") as handle:
            os.fsync(handle.fileno())
    staging.rename(target)
    return target / "model.onnx"


def insert_model(
    con: duckdb.DuckDBPyConnection,
    record: ModelRecord,
    metrics: dict[str, dict[str, float]],
) -> None:
    """Register the model and its metrics (split -> metric -> value) in one transaction."""
    rows = [
        (record.model_id, split, name, value)
        for split, values in metrics.items()
        for name, value in values.items()
    ]
    con.execute("begin transaction")
    try:
        placeholders = ", ".join("?" * len(record.row()))
        columns = ", ".join(f.name for f in fields(ModelRecord))
        con.execute(
            f"insert into ml_outputs.model_registry ({columns}) values ({placeholders})",
            record.row(),
        )
        con.executemany("insert into ml_outputs.model_metrics values (?, ?, ?, ?)", rows)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


# The most recently registered model's row (the columns of ModelRecord, in order), on any
# engine.
LATEST_MODEL_SQL = (
    f"select {', '.join(f.name for f in fields(ModelRecord))} from ml_outputs.model_registry "
    "order by created_at desc, model_id desc limit 1"
)


def model_record(row: Sequence[object]) -> ModelRecord:
    """A ModelRecord from a row of LATEST_MODEL_SQL."""
    values: dict[str, Any] = dict(zip([f.name for f in fields(ModelRecord)], row, strict=True))
    values["features"] = tuple(json.loads(values["features"]))
    values["params"] = json.loads(values["params"])
    values["training"] = json.loads(values["training"] or '{"mode": "explicit"}')
    return ModelRecord(**values)


def latest_model(con: duckdb.DuckDBPyConnection) -> ModelRecord | None:
    """The most recently registered model, if any."""
    rows = con.execute(LATEST_MODEL_SQL).fetchall()
    return model_record(rows[0]) if rows else None


def registered_model(con: duckdb.DuckDBPyConnection) -> ModelRecord:
    """The latest model; NoDataError when none is registered yet."""
    record = latest_model(con)
    if record is None:
        raise NoDataError("no registered model: run `movierec train` first")
    return record


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_bytes(record: ModelRecord) -> bytes:
    """The registered model's ONNX file, once its sha256 is the registered one."""
    onnx = Path(record.onnx_path).read_bytes()
    if hashlib.sha256(onnx).hexdigest() != record.onnx_sha256:
        raise DamagedFileError(
            f"{record.onnx_path} does not match the sha256 registered for {record.model_id}"
        )
    return onnx


def load_scorer(record: ModelRecord) -> OnnxScorer:
    """The registered model's ONNX file as a scorer, once its sha256 is the registered one."""
    return OnnxScorer(model_bytes(record))
