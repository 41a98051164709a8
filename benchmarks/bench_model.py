"""Choose the forest: the seed's 22 features vs ours, and forest sizes, on held-out data.

Builds a fresh world at the seed's scale (simulate + dbt build), then for each feature set
and forest configuration fits on the time split's past and scores its latest 20 % (and
the seed's random 80/20), and times ONNX scoring. The default forest is the fastest
configuration whose AUC, averaged over both splits, is within 0.001 of the best.
Prints a table and writes benchmarks/results/model.{json,md}.

    .venv/bin/python -m benchmarks.bench_model
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
from sklearn.ensemble import RandomForestClassifier

from benchmarks.measure import RESULTS, data_env, machine, run_step, simulate_args
from movierec.model import OnnxScorer, evaluate, random_split, time_split, to_onnx
from movierec.settings import FeatureSet, ForestParams, TrainingMode, load
from movierec.training import training_rows
from movierec.warehouse import parse_feature_contract

FORESTS: tuple[tuple[int, int], ...] = (
    (200, 15), (100, 12), (50, 10), (30, 10), (20, 10), (50, 8), (30, 8), (20, 8),
)  # fmt: skip
SCORING_ROWS = 500_000


@dataclass(frozen=True)
class Row:
    feature_set: str
    trees: int
    depth: int
    split: str
    auc: float
    precision: float
    recall: float
    f1: float
    fit_seconds: float
    onnx_rows_per_second: float


def onnx_speed(forest: RandomForestClassifier, features: np.ndarray) -> float:
    rows = np.ascontiguousarray(np.resize(features, (SCORING_ROWS, features.shape[1])))
    scorer = OnnxScorer(to_onnx(forest, features.shape[1]))
    started = time.perf_counter()
    scorer.positive_probability(rows)
    return SCORING_ROWS / (time.perf_counter() - started)


def bench(warehouse: Path) -> list[Row]:
    contract = parse_feature_contract(load().paths.ml_features_yml.read_text())
    rows: list[Row] = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        feature_sets: tuple[FeatureSet, ...] = ("seed", "all")
        for feature_set in feature_sets:
            data = training_rows(con, contract, contract.select(feature_set), TrainingMode())
            splits = {
                "time": time_split(data.requested_at, 0.2),
                "random": random_split(data.labels, 0.2, seed=42),
            }
            for trees, depth in FORESTS:
                params = ForestParams(n_estimators=trees, max_depth=depth)
                for split, test in splits.items():
                    forest, m = evaluate(data.features, data.labels, test, params)
                    speed = onnx_speed(forest, data.features) if split == "time" else 0.0
                    rows.append(
                        Row(feature_set, trees, depth, split, m.auc, m.precision, m.recall,
                            m.f1, m.fit_seconds, speed)
                    )  # fmt: skip
                    print(rows[-1])
    return rows


def choose_default(rows: list[Row]) -> tuple[Row, float]:
    """The fastest forest (ONNX rows/s) on our features whose AUC, averaged over the time
    and random splits, is within 0.001 of the best average. One split alone is a single
    30,000-row sample whose AUC moves by about 0.001 between forests of equal quality."""
    ours = [r for r in rows if r.feature_set == "all"]
    mean_auc = {
        (r.trees, r.depth): np.mean(
            [o.auc for o in ours if (o.trees, o.depth) == (r.trees, r.depth)]
        )
        for r in ours
    }
    best = max(mean_auc.values())
    eligible = [
        r for r in ours if r.split == "time" and mean_auc[(r.trees, r.depth)] >= best - 0.001
    ]
    chosen = max(eligible, key=lambda r: r.onnx_rows_per_second)
    return chosen, float(mean_auc[(chosen.trees, chosen.depth)])


def render(rows: list[Row], default: Row, default_auc: float) -> str:
    lines = [
        f"Model benchmark, {datetime.now(UTC):%Y-%m-%d}, {machine()}, seed-scale world",
        "",
        "| features | forest | split | AUC | precision | recall | F1 | fit (s) | ONNX rows/s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        speed = f"{r.onnx_rows_per_second:,.0f}" if r.onnx_rows_per_second else ""
        lines.append(
            f"| {r.feature_set} | {r.trees} trees, depth {r.depth} | {r.split} | {r.auc:.4f} "
            f"| {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} | {r.fit_seconds:.1f} | {speed} |"
        )
    lines += [
        "",
        f"Default: {default.trees} trees, depth {default.depth}: the fastest ONNX scoring "
        f"among forests on our features whose mean AUC over both splits ({default_auc:.4f}) "
        "is within 0.001 of the best.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="movierec-model-") as tmp:
        env = data_env(Path(tmp))
        run_step("1x", "simulate", simulate_args("1x"), env)
        run_step("1x", "build", ["build"], env)
        rows = bench(Path(env["MOVIEREC_DUCKDB_PATH"]))
    default, default_auc = choose_default(rows)
    report = render(rows, default, default_auc)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "model.md").write_text(report)
    payload = {"rows": [asdict(r) for r in rows], "default": asdict(default)}
    (RESULTS / "model.json").write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
