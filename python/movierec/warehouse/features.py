"""The model's inputs, as the dbt contract on the ml_ feature models declares them, and
the reader that streams them out of the warehouse.

Column names, order and roles are read from `_ml__features.yml`, so the trained model, its
ONNX signature and the scorer all use the contract's order and cannot drift from the SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import yaml

from movierec.arrays import Matrix
from movierec.errors import SettingsError
from movierec.settings import FeatureSet


def float32_select(columns: Sequence[str]) -> str:
    """SQL select-list casting the feature columns to float32, the model's input type."""
    return ", ".join(f"cast({name} as float) as {name}" for name in columns)


def feature_matrix(data: pa.Table | pa.RecordBatch, columns: Sequence[str]) -> Matrix:
    """The feature columns of Arrow data as a float32 [rows, features] matrix."""
    matrix: Matrix = np.column_stack([data.column(name).to_numpy() for name in columns]).astype(
        np.float32, copy=False
    )
    return matrix


@dataclass(frozen=True)
class FeatureContract:
    """Feature columns of ml_training_features, in contract order."""

    keys: tuple[str, ...]
    label: str
    features: tuple[str, ...]
    seed_features: tuple[str, ...]

    def select(self, feature_set: FeatureSet) -> tuple[str, ...]:
        """The columns a model of this feature set takes, in contract order."""
        return self.features if feature_set == "all" else self.seed_features


def parse_feature_contract(ml_yml: str, model: str = "ml_training_features") -> FeatureContract:
    """Read the feature contract from the text of `_ml__features.yml`."""
    document: dict[str, Any] = yaml.safe_load(ml_yml)
    node = next(m for m in document["models"] if m["name"] == model)
    keys: list[str] = []
    labels: list[str] = []
    features: list[str] = []
    seed: list[str] = []
    for column in node["columns"]:
        meta: dict[str, Any] = (column.get("config") or {}).get("meta") or {}
        role = meta.get("role")
        if role == "key":
            keys.append(column["name"])
        elif role == "label":
            labels.append(column["name"])
        elif role == "feature":
            if column["data_type"] != "double":
                raise SettingsError(f"feature {column['name']} must be double in the contract")
            features.append(column["name"])
            if meta.get("seed_feature"):
                seed.append(column["name"])
    if len(labels) != 1:
        raise SettingsError(f"{model} must have exactly one label column, found {labels}")
    return FeatureContract(
        keys=tuple(keys), label=labels[0], features=tuple(features), seed_features=tuple(seed)
    )


def feature_batches(
    con: duckdb.DuckDBPyConnection, features: Sequence[str], batch_rows: int
) -> Iterator[tuple[pa.RecordBatch, Matrix]]:
    """ml_scoring_features (the features of the current scoring requests) in Arrow batches:
    the key columns (user_id, movie_id, requested_at) and the float32 feature matrix, in
    the model's column order."""
    reader = con.sql(
        "select user_id, movie_id, requested_at, "
        f"{float32_select(list(features))} from ml.ml_scoring_features"
    ).to_arrow_reader(batch_rows)
    for batch in reader:
        yield batch.select([0, 1, 2]), feature_matrix(batch, list(features))
