"""The one settings root: the only reader of `movierec.toml` (or `MOVIEREC_CONFIG`) and of
every `MOVIEREC_*` environment variable.

    MOVIEREC_PROJECT_DIR          the checkout (dbt_project/, profiles.yml, movierec.toml)
    MOVIEREC_DATA_DIR             landed files, models, erasure requests (default: data/)
    MOVIEREC_DUCKDB_PATH          the published warehouse (default: data/warehouse/movierec.duckdb)
    MOVIEREC_DUCKDB_MEMORY_LIMIT  DuckDB's memory cap, for movierec's connections and dbt's
                                  (default: a quarter of the machine's memory, 0.5-2 GiB)
    MOVIEREC_FEATURE_BATCH_ROWS   viewings per query when ml_training_features is built in
                                  batches (default: from the memory cap; docs/memory.md)
    MOVIEREC_CONFIG               the settings file (default: movierec.toml in the project)

`load()` reads them once and returns typed settings; nothing below this package looks at the
environment or the config file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from movierec.errors import SettingsError
from movierec.settings.memory import (
    as_duckdb_size,
    default_memory_limit,
    feature_rows_per_batch,
    pairs_per_chunk,
    parse_size,
    retrieval_requests_per_chunk,
)
from movierec.settings.paths import ENTITIES, Paths
from movierec.settings.steps import (
    AuditSettings,
    BadRows,
    CandidateSource,
    ClosedLoopSettings,
    Engine,
    EvaluateSettings,
    FeatureSet,
    ForestParams,
    Mode,
    MovieLensSettings,
    NegativeSampling,
    NightlySettings,
    PublishSettings,
    RecommendSettings,
    SimulationSettings,
    Split,
    TrainingMode,
    TrainSettings,
)

__all__ = [
    "ENTITIES",
    "FEATURE_BATCH_ROWS_ENV",
    "AuditSettings",
    "BadRows",
    "CandidateSource",
    "ClosedLoopSettings",
    "Engine",
    "EvaluateSettings",
    "FeatureSet",
    "ForestParams",
    "Mode",
    "MovieLensSettings",
    "NegativeSampling",
    "NightlySettings",
    "Paths",
    "PublishSettings",
    "RecommendSettings",
    "Settings",
    "SimulationSettings",
    "Split",
    "TrainSettings",
    "TrainingMode",
    "feature_rows_per_batch",
    "load",
    "pairs_per_chunk",
    "parse_size",
    "retrieval_requests_per_chunk",
]

# The repository root when the package is installed from a checkout (editable install):
# python/movierec/settings/__init__.py -> parents[3].
CHECKOUT_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Settings:
    """Everything the environment and the config file say, typed."""

    paths: Paths
    config_path: Path
    training: TrainingMode = field(default_factory=TrainingMode)
    forest: ForestParams = field(default_factory=ForestParams)
    closed_loop: ClosedLoopSettings = field(default_factory=ClosedLoopSettings)
    # [ab_test] and [ranking]: RecommendSettings fields (challenger_share, diversity, ...)
    serving: dict[str, Any] = field(default_factory=dict)

    def recommend_settings(self, **overrides: Any) -> RecommendSettings:
        """The config's [ab_test] and [ranking] as recommendation settings, with
        `overrides`."""
        return RecommendSettings(**{**self.serving, **overrides})

    def train_settings(self, **overrides: Any) -> TrainSettings:
        """The config's [training] and [forest] as training settings, with `overrides`."""
        return TrainSettings(forest=self.forest, mode=self.training, **overrides)


def _table(config: Mapping[str, Any], name: str, config_path: Path) -> dict[str, Any]:
    table = config.get(name, {})
    if not isinstance(table, dict):
        raise SettingsError(f"{config_path}: [{name}] must be a table")
    return dict(table)


def machine_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        cgroup = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return physical
    return min(physical, int(cgroup)) if cgroup.isdigit() else physical


def _memory_limit(env: Mapping[str, str]) -> str:
    """MOVIEREC_DUCKDB_MEMORY_LIMIT when set (checked), else the rule of `settings.memory`."""
    name = "MOVIEREC_DUCKDB_MEMORY_LIMIT"
    if name in env:
        parse_size(env[name], name)
        return env[name]
    return as_duckdb_size(default_memory_limit(machine_memory()))


# what movierec.toml's [ranking] may set (RecommendSettings fields)
_RANKING_SETTINGS = {"diversity", "diversity_pool"}

FEATURE_BATCH_ROWS_ENV = "MOVIEREC_FEATURE_BATCH_ROWS"


def _feature_batch_rows(env: Mapping[str, str]) -> int | None:
    """MOVIEREC_FEATURE_BATCH_ROWS when set (a positive whole number), else None."""
    name = FEATURE_BATCH_ROWS_ENV
    if name not in env:
        return None
    text = env[name].replace("_", "")
    if not text.isdigit() or int(text) < 1:
        raise SettingsError(f"{name}: {env[name]!r} is not a positive whole number of viewings")
    return int(text)


def load(
    environ: Mapping[str, str] | None = None,
    *,
    training_mode: str | None = None,
    forest: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the environment and the config file; `training_mode` and `forest` (options of
    one run) override the config's [training] mode and [forest] parameters."""
    env = os.environ if environ is None else environ
    project_dir = Path(env.get("MOVIEREC_PROJECT_DIR", CHECKOUT_ROOT)).resolve()
    data_dir = Path(env.get("MOVIEREC_DATA_DIR", project_dir / "data")).resolve()
    warehouse = env.get("MOVIEREC_DUCKDB_PATH")
    paths = Paths(
        project_dir=project_dir,
        data_dir=data_dir,
        warehouse_path=(
            Path(warehouse).resolve() if warehouse else data_dir / "warehouse" / "movierec.duckdb"
        ),
        memory_limit=_memory_limit(env),
        feature_batch_rows=_feature_batch_rows(env),
    )
    configured = env.get("MOVIEREC_CONFIG")
    config_path = Path(configured).resolve() if configured else project_dir / "movierec.toml"
    config: dict[str, Any] = {}
    if config_path.exists():
        try:
            with config_path.open("rb") as handle:
                config = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{config_path}: not valid TOML: {exc}") from exc
    training = _table(config, "training", config_path)
    if training_mode is not None:
        training["mode"] = training_mode
    forest_values = {**_table(config, "forest", config_path), **(forest or {})}
    if forest_values.get("class_weight") == "none":  # TOML has no null
        forest_values["class_weight"] = None
    try:
        mode = TrainingMode(**training)
    except (TypeError, SettingsError) as exc:
        raise SettingsError(f"{config_path} [training]: {exc}") from exc
    try:
        params = ForestParams(**forest_values)
    except (TypeError, SettingsError) as exc:
        raise SettingsError(f"{config_path} [forest]: {exc}") from exc
    try:
        closed_loop = ClosedLoopSettings(**_table(config, "closed_loop", config_path))
    except (TypeError, SettingsError) as exc:
        raise SettingsError(f"{config_path} [closed_loop]: {exc}") from exc
    serving: dict[str, Any] = {}
    for table, names in (("ab_test", {"challenger_share"}), ("ranking", _RANKING_SETTINGS)):
        values = _table(config, table, config_path)
        unknown = set(values) - names
        if unknown:
            raise SettingsError(f"{config_path} [{table}]: unknown settings {sorted(unknown)}")
        try:
            RecommendSettings(**values)
        except (TypeError, SettingsError) as exc:
            raise SettingsError(f"{config_path} [{table}]: {exc}") from exc
        serving.update(values)
    return Settings(
        paths=replace(paths, retrieval_candidates=mode.retrieval_candidates),
        config_path=config_path,
        training=mode,
        forest=params,
        closed_loop=closed_loop,
        serving=serving,
    )
