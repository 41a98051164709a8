"""Choose the re-ranking forest on a validation split carved from training, never on the
split the MovieLens benchmark reports.

ml-100k lands with 25 % of each user's ratings held out (`movierec ingest movielens PATH
--holdout-share 0.25`, seed 7): the reported test set, which this script never reads.
What landed is written back out as an ml-100k folder and ingested again with 25 % of each
user's ratings held out by another seed (101): the validation set. That validation
world then runs the nightly as the benchmark does (benchmarks/movielens.toml: implicit,
trained in the masked world), and `benchmarks.bench_reranker.study` ranks retrieval's
candidates with each forest of the grid, trained in the validation world's own masked
world, judged on the validation ratings: precision@10, recall@10, nDCG@10, MAP@10.

    .venv/bin/python -m benchmarks.tune_reranker /path/to/ml-100k

Writes benchmarks/results/tune_reranker.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.bench_reranker import CONFIG, study
from benchmarks.measure import RESULTS, data_env, machine, run_step
from movierec.settings import ForestParams

TEST_SHARE, VALIDATION_SEED = 0.25, 101


def _forest(depth: int, leaf: int, **other: Any) -> ForestParams:
    """100 trees, no class weights unless `other` says otherwise."""
    chosen: dict[str, Any] = {"n_estimators": 100, "class_weight": None, **other}
    return ForestParams(max_depth=depth, min_samples_leaf=leaf, **chosen)


# first the forest benchmarks/movielens.toml had before this tuning (chosen on the
# reported splits), then the grid around it
GRID = {
    "depth 12, leaf 50": _forest(12, 50),
    "depth 8, leaf 50": _forest(8, 50),
    "depth 16, leaf 50": _forest(16, 50),
    "depth 12, leaf 10": _forest(12, 10),
    "depth 12, leaf 200": _forest(12, 200),
    "depth 16, leaf 200": _forest(16, 200),
    "depth 12, leaf 500": _forest(12, 500),
    "depth 12, leaf 1000": _forest(12, 1000),
    "depth 12, leaf 50, half the features": _forest(12, 50, max_features=0.5),
    "depth 12, leaf 50, balanced": _forest(12, 50, class_weight="balanced"),
    # cheaper fits: fewer trees, or each tree on a share of the rows
    "depth 12, leaf 200, 50 trees": _forest(12, 200, n_estimators=50),
    "depth 12, leaf 200, half the rows per tree": _forest(12, 200, max_samples=0.5),
    "depth 12, leaf 200, a quarter of the rows per tree": _forest(12, 200, max_samples=0.25),
    "depth 12, leaf 50, a quarter of the rows per tree": _forest(12, 50, max_samples=0.25),
    "depth 12, leaf 50, a tenth of the rows per tree": _forest(12, 50, max_samples=0.1),
}


def write_landed_as_movielens(source: Path, data: Path, target: Path) -> int:
    """An ml-100k folder at `target`: `source`'s users, films and genres, and as u.data the
    ratings landed in the data folder `data`; returns how many ratings."""
    target.mkdir(parents=True)
    for name in ("u.user", "u.item", "u.genre"):
        shutil.copy(source / name, target / name)
    landed = pl.read_parquet(data / "raw" / "interactions" / "*.parquet").sort("interaction_id")
    lines = landed.select(
        pl.format(
            "{}\t{}\t{}\t{}",
            "user_id",
            "movie_id",
            "rating",
            pl.col("interacted_at").dt.epoch("s"),
        )
    ).to_series()
    (target / "u.data").write_text("\n".join(lines.to_list()) + "\n", encoding="latin-1")
    return landed.height


def validation_world(source: Path, tmp: Path) -> tuple[Path, int]:
    """In `tmp`: ml-100k at `source` landed with the reported test set held out (never read),
    what landed written back out as ml-100k and landed again with the validation set held
    out, and the nightly run there in the benchmark's config. Returns the validation data
    folder and how many ratings the first landing kept."""
    landed, validation = tmp / "landed", tmp / "validation"
    share = ["--holdout-share", str(TEST_SHARE)]
    run_step("ml-100k", "ingest", ["ingest", "movielens", str(source), *share],
             data_env(landed))  # fmt: skip
    ratings = write_landed_as_movielens(source, landed, tmp / "ml-75")
    env = {**data_env(validation), "MOVIEREC_CONFIG": str(CONFIG)}
    ingest = ["ingest", "movielens", str(tmp / "ml-75"), *share]
    run_step("ml-100k", "ingest again", [*ingest, "--holdout-seed", str(VALIDATION_SEED)], env)
    run_step("ml-100k", "nightly", ["nightly", "--no-evaluate-new-model"], env)
    return validation, ratings


def render(rows: list[dict[str, object]], ratings: int) -> str:
    forests = [r for r in rows if str(r["ranker"]).startswith("forest")]
    best = max(forests, key=lambda r: float(r["precision"]))  # type: ignore[arg-type]
    lines = [
        f"The re-ranking forest on a validation split of ml-100k, {datetime.now(UTC):%Y-%m-%d}, "
        f"{machine()}",
        "",
        f"Landed: 75 % of each user's ratings ({ratings:,}; the reported test set held out at "
        f"ingest, unread). Validation: {TEST_SHARE:.0%} of each user's landed ratings held out "
        f"again (seed {VALIDATION_SEED}); lists just after the latest remaining rating, top 10 "
        "of retrieval's 300 candidates; each forest trained in the masked world of what "
        "remains (100 trees unless named); `seconds`: the training rows, the fit and the "
        "scoring.",
        "",
        "| ranker | training rows | precision@10 | recall@10 | ndcg@10 | map@10 | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['ranker']} | {r['training_rows']:,} | {r['precision']:.4f} | "
        f"{r['recall']:.4f} | {r['ndcg']:.4f} | {r['map']:.4f} | {r['seconds']} |"
        for r in rows
    ]
    lines += ["", f"Best forest by precision@10: {best['ranker']}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="the ml-100k folder (u.data, u.user, u.item)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="movierec-tune-reranker-") as tmp:
        validation, ratings = validation_world(args.path, Path(tmp))
        held_out = validation / "holdout" / "interactions.parquet"
        rows = study(validation, "validation", held_out, ("masked",), GRID)
    report = render(rows, ratings)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tune_reranker.md").write_text(report)
    result = {"machine": machine(), "validation_seed": VALIDATION_SEED, "rows": rows}
    (RESULTS / "tune_reranker.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
