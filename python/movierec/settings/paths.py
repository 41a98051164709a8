"""Where one movierec installation keeps its project, data and warehouse.

`Paths` is plain data: `movierec.settings.load()` fills it from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from movierec.settings.memory import feature_rows_per_batch, parse_size

ENTITIES: tuple[str, ...] = ("users", "movies", "interactions")


@dataclass(frozen=True)
class Paths:
    """Filesystem layout of one movierec installation."""

    project_dir: Path
    data_dir: Path
    warehouse_path: Path
    # DuckDB's memory cap for movierec's connections and dbt's, so large joins spill to disk
    # rather than grow the process (DuckDB's own default is 80 % of the machine); `load()`
    # sets it from MOVIEREC_DUCKDB_MEMORY_LIMIT or the rule of `settings.memory`
    memory_limit: str = "2GB"
    # the viewings whose training features one dbt query computes (None: the rule of
    # `settings.memory` from memory_limit); MOVIEREC_FEATURE_BATCH_ROWS sets it
    feature_batch_rows: int | None = None
    # the films retrieval keeps per user, passed to every dbt command movierec runs (None:
    # dbt_project.yml's default); `load()` sets it from [training] retrieval_candidates,
    # which the model records, so the two always agree
    retrieval_candidates: int | None = None

    @property
    def dbt_vars(self) -> dict[str, int]:
        """The dbt vars this installation sets over dbt_project.yml's defaults."""
        if self.retrieval_candidates is None:
            return {}
        return {"retrieval_candidates": self.retrieval_candidates}

    @property
    def memory_limit_bytes(self) -> int:
        return parse_size(self.memory_limit, "MOVIEREC_DUCKDB_MEMORY_LIMIT")

    @property
    def rows_per_feature_batch(self) -> int:
        if self.feature_batch_rows is not None:
            return self.feature_batch_rows
        return feature_rows_per_batch(self.memory_limit_bytes)

    @staticmethod
    def spill_dir(database: Path) -> Path:
        """Where the DuckDB of `database` spills what does not fit its memory_limit: beside
        the file, so a build's spill goes when the build goes (DuckDB's own default)."""
        return database.with_name(database.name + ".tmp")

    @property
    def raw_dir(self) -> Path:
        """Immutable landed Parquet batches, one folder per entity."""
        return self.data_dir / "raw"

    @property
    def spark_dir(self) -> Path:
        """The Spark engine's warehouse versions (docs/spark.md), each a metastore and its
        tables, and the link to the published one."""
        return self.data_dir / "spark"

    @property
    def spark_published(self) -> Path:
        """What Spark's readers open: a link to the published version's folder."""
        return self.spark_dir / "published"

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
    def warehouse_dir(self) -> Path:
        """The published warehouse, its report, and the write-audit-publish folders beside it."""
        return self.warehouse_path.parent

    @property
    def builds_dir(self) -> Path:
        """The run in progress: builds/next/ holds the warehouse being built and audited."""
        return self.warehouse_dir / "builds"

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

    def in_build(self) -> Paths:
        """The same installation, pointed at the warehouse a run builds before publishing:
        builds/next/, the same folder for every run (one run at a time holds the lock), so
        dbt sees the same warehouse path night after night and parses the project only when
        it changed (dbt's partial parsing starts over whenever the profile's path does)."""
        return replace(self, warehouse_path=self.builds_dir / "next" / self.warehouse_path.name)

    def entity_dir(self, entity: str) -> Path:
        return self.raw_dir / entity

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that point dbt (profiles.yml, sources) at these paths."""
        return {
            "MOVIEREC_DATA_DIR": str(self.data_dir),
            "MOVIEREC_DUCKDB_PATH": str(self.warehouse_path),
        }
