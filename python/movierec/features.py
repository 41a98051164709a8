"""The model's inputs, as the dbt contract on the ml_ feature models declares them.

Column names, order and roles are read from `_ml__features.yml`, so the trained model, its
ONNX signature and the scorer all use the contract's order and cannot drift from the SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import yaml

FeatureSet = Literal["all", "seed"]


def float32_select(columns: tuple[str, ...] | list[str]) -> str:
    """SQL select-list casting the feature columns to float32, the model's input type."""
    return ", ".join(f"cast({name} as float) as {name}" for name in columns)


def feature_matrix(
    data: pa.Table | pa.RecordBatch, columns: tuple[str, ...] | list[str]
) -> npt.NDArray[np.float32]:
    """The feature columns of Arrow data as a float32 [rows, features] matrix."""
    matrix: npt.NDArray[np.float32] = np.column_stack(
        [data.column(name).to_numpy() for name in columns]
    ).astype(np.float32, copy=False)
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
                raise ValueError(f"feature {column['name']} must be double in the contract")
            features.append(column["name"])
            if meta.get("seed_feature"):
                seed.append(column["name"])
    if len(labels) != 1:
        raise ValueError(f"{model} must have exactly one label column, found {labels}")
    return FeatureContract(
        keys=tuple(keys), label=labels[0], features=tuple(features), seed_features=tuple(seed)
    )
