"""Typed settings: where the project, its data and its warehouse live.

Nothing here touches the disk at import time; `Paths.from_env()` reads the environment
only when the CLI asks for it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

ENTITIES: tuple[str, ...] = ("users", "movies", "interactions")

# The repository root when the package is installed from a checkout (editable install):
# python/movierec/config.py -> parents[2].
_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Paths:
    """Filesystem layout of one movierec installation."""

    project_dir: Path
    data_dir: Path
    warehouse_path: Path

    @property
    def raw_dir(self) -> Path:
        """Immutable landed Parquet batches, one folder per entity."""
        return self.data_dir / "raw"

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_dir / "dbt_project"

    @property
    def sources_yml(self) -> Path:
        """The raw data contract, written as dbt source properties."""
        return self.dbt_project_dir / "models" / "staging" / "landing" / "_landing__sources.yml"

    @property
    def ml_features_yml(self) -> Path:
        """The feature contract of the ml_ models."""
        return self.dbt_project_dir / "models" / "marts" / "ml" / "_ml__features.yml"

    @property
    def report_path(self) -> Path:
        """The morning report, next to the warehouse."""
        return self.warehouse_path.parent / "report.html"

    @property
    def holdout_path(self) -> Path:
        """Interactions held out at ingest for `evaluate --split random`; never landed."""
        return self.data_dir / "holdout" / "interactions.parquet"

    @property
    def models_dir(self) -> Path:
        """Registered models: <model_id>/{model.onnx, metadata.json}."""
        return self.data_dir / "models"

    @property
    def config_path(self) -> Path:
        """The nightly's settings file: MOVIEREC_CONFIG, else movierec.toml in the project."""
        configured = os.environ.get("MOVIEREC_CONFIG")
        return Path(configured).resolve() if configured else self.project_dir / "movierec.toml"

    def config(self) -> dict[str, Any]:
        """The settings file as a table (empty when there is none)."""
        if not self.config_path.exists():
            return {}
        with self.config_path.open("rb") as handle:
            return tomllib.load(handle)

    @property
    def warehouse_dir(self) -> Path:
        """The published warehouse, its report, and the write-audit-publish folders beside it."""
        return self.warehouse_path.parent

    @property
    def staging_dir(self) -> Path:
        """Runs in progress: staging/<run_id>/ holds the warehouse being built and audited."""
        return self.warehouse_dir / "staging"

    @property
    def versions_dir(self) -> Path:
        """The last published versions: versions/<run_id>/; the newest is the published one."""
        return self.warehouse_dir / "versions"

    @property
    def run_log_dir(self) -> Path:
        """One JSON record per run (outcome, steps, timings), kept outside any warehouse."""
        return self.warehouse_dir / "runs"

    @property
    def lock_path(self) -> Path:
        """Held (flock) by the one process allowed to build and publish."""
        return self.warehouse_dir / f".{self.warehouse_path.name}.lock"

    @property
    def erasure_dir(self) -> Path:
        """Right-to-erasure requests: pending/ until a publish applies them, then log.jsonl."""
        return self.data_dir / "erasure"

    @property
    def ops_sources_yml(self) -> Path:
        """Tables movierec's run machinery writes (quarantine, run log)."""
        return self.dbt_project_dir / "models" / "staging" / "ops" / "_ops__sources.yml"

    @property
    def ml_outputs_sources_yml(self) -> Path:
        """Tables the Python steps write (registry, metrics, recommendations)."""
        return (
            self.dbt_project_dir / "models" / "staging" / "ml_outputs" / "_ml_outputs__sources.yml"
        )

    def staged(self, run_id: str) -> Paths:
        """The same installation, pointed at the warehouse a run builds before publishing."""
        return replace(self, warehouse_path=self.staging_dir / run_id / self.warehouse_path.name)

    def entity_dir(self, entity: str) -> Path:
        return self.raw_dir / entity

    @classmethod
    def from_env(cls) -> Paths:
        """Resolve paths from MOVIEREC_* environment variables, defaulting to the checkout."""
        project_dir = Path(os.environ.get("MOVIEREC_PROJECT_DIR", _CHECKOUT_ROOT)).resolve()
        data_dir = Path(os.environ.get("MOVIEREC_DATA_DIR", project_dir / "data")).resolve()
        warehouse = os.environ.get("MOVIEREC_DUCKDB_PATH")
        warehouse_path = (
            Path(warehouse).resolve() if warehouse else data_dir / "warehouse" / "movierec.duckdb"
        )
        return cls(project_dir=project_dir, data_dir=data_dir, warehouse_path=warehouse_path)

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that point dbt (profiles.yml, sources) at these paths."""
        return {
            "MOVIEREC_DATA_DIR": str(self.data_dir),
            "MOVIEREC_DUCKDB_PATH": str(self.warehouse_path),
        }


@dataclass(frozen=True)
class SimulationSettings:
    """Knobs of the simulated world; defaults reproduce the seed notebook's scale."""

    n_users: int = 10_000
    n_movies: int = 2_000
    n_interactions: int = 150_000
    as_of: date = date(2024, 12, 31)
    seed: int = 42

    def __post_init__(self) -> None:
        for name in ("n_users", "n_movies", "n_interactions"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
