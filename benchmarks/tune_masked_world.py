"""Choose the masked world's newcomers (`cold_share`: the share of users whose every film
it hides) on validation splits carved from ml-100k's training data, never on the splits
the MovieLens benchmark reports.

- time: ml-100k's ratings before the reported time split's cut-off (30 days before the
  latest rating), landed whole; the nightly's own time split then judges lists made 30
  days before the end of that data on the 30 days after, where, as on the reported split,
  most judged users arrive without history.
- random: as benchmarks/tune_reranker.py: 75 % of each user's ratings land (the reported
  stratified test set held out at ingest, unread), are written back out as an ml-100k
  folder and land again with 25 % of each user's ratings held out (seed 101);
  `movierec evaluate --split random` judges on those.

Per cold share, each world lands in a fresh data folder and runs the nightly with
benchmarks/movielens.toml and that share (the time world's nightly evaluates its new
model; the random world's then runs `evaluate --split random`). Top 10, every user.

    .venv/bin/python -m benchmarks.tune_masked_world /path/to/ml-100k [--cold-shares 0,0.1]

Writes benchmarks/results/tune_masked_world.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_movielens import CONFIG, HISTORY_SLICES, evaluations
from benchmarks.measure import RESULTS, data_env, machine, markdown_table, run_step
from benchmarks.tune_reranker import TEST_SHARE, VALIDATION_SEED, write_landed_as_movielens

JUDGED_DAYS = 30
SHOWN = ("model", "retrieval", "segment_popularity", "ease", "user_knn")


def write_before_cutoff(source: Path, target: Path) -> int:
    """An ml-100k folder at `target`: `source`'s users and films, and its ratings from
    before the reported time split's cut-off (the latest rating minus 30 days); returns how
    many ratings."""
    target.mkdir(parents=True)
    for name in ("u.user", "u.item", "u.genre"):
        shutil.copy(source / name, target / name)
    lines = (source / "u.data").read_text(encoding="latin-1").splitlines()
    cutoff = max(int(line.split("\t")[3]) for line in lines) - JUDGED_DAYS * 86_400
    kept = [line for line in lines if int(line.split("\t")[3]) < cutoff]
    (target / "u.data").write_text("\n".join(kept) + "\n", encoding="latin-1")
    return len(kept)


def config_with(cold_share: float, target: Path) -> Path:
    """benchmarks/movielens.toml with `cold_share` set in [training], written to `target`."""
    text = CONFIG.read_text()
    anchor = "mask_share = 0.25\n"
    if anchor not in text:
        raise SystemExit(f"{CONFIG}: no line {anchor.strip()!r} to set cold_share beside")
    target.write_text(text.replace(anchor, f"{anchor}cold_share = {cold_share}\n"))
    return target


def measure(tmp: Path, cold_share: float) -> list[dict[str, object]]:
    """The validation figures of one cold share: the shown recommenders on both worlds, and
    the model's on the time world's history slices."""
    config = config_with(cold_share, tmp / f"movielens-{cold_share}.toml")
    timed, shuffled = tmp / f"time-{cold_share}", tmp / f"random-{cold_share}"
    quiet = "--no-evaluate-new-model"
    env = {**data_env(timed), "MOVIEREC_CONFIG": str(config)}
    run_step("ml-100k", "ingest", ["ingest", "movielens", str(tmp / "before-cutoff")], env)
    run_step("ml-100k", "nightly", ["nightly"], env)
    env = {**data_env(shuffled), "MOVIEREC_CONFIG": str(config)}
    share = ["--holdout-share", str(TEST_SHARE), "--holdout-seed", str(VALIDATION_SEED)]
    run_step("ml-100k", "ingest", ["ingest", "movielens", str(tmp / "ml-75"), *share], env)
    run_step("ml-100k", "nightly", ["nightly", quiet], env)
    run_step("ml-100k", "evaluate", ["evaluate", "--split", "random"], env)
    warehouses = {
        "time": timed / "warehouse" / "movierec.duckdb",
        "random": shuffled / "warehouse" / "movierec.duckdb",
    }
    rows = [
        {**row, "world": world, "segment": "all", "cold_share": cold_share}
        for world, warehouse in warehouses.items()
        for row in evaluations(warehouse)
        if row["recommender"] in SHOWN
    ]
    rows += [
        {**row, "world": "time", "segment": segment, "cold_share": cold_share}
        for segment in HISTORY_SLICES
        for row in evaluations(warehouses["time"], segment=segment)
        if row["recommender"] == "model"
    ]
    shutil.rmtree(timed)
    shutil.rmtree(shuffled)
    return rows


def render(rows: list[dict[str, object]], ratings: dict[str, int]) -> str:
    columns = [
        ("world", "world"),
        ("users", "segment"),
        ("recommender", "recommender"),
        (">cold share", "cold_share"),
        (">precision@10", "precision"),
        (">recall@10", "recall"),
        (">ndcg@10", "ndcg"),
        (">map@10", "map"),
        (">judged users", "users_evaluated"),
    ]
    ordered = sorted(
        rows,
        key=lambda r: (
            str(r["world"]),
            str(r["segment"]),
            str(r["recommender"]) != "model",
            str(r["recommender"]),
            float(r["cold_share"]),  # type: ignore[arg-type]
        ),
    )
    for row in ordered:
        row["users_evaluated"] = int(row.get("users_evaluated", 0))  # type: ignore[call-overload]
    return "\n".join(
        [
            f"The masked world's newcomers on validation splits of ml-100k, "
            f"{datetime.now(UTC):%Y-%m-%d}, {machine()}",
            "",
            f"time: the {ratings['time']:,} ratings before the reported time split's cut-off, "
            "judged by the nightly's own time split (lists 30 days before the end of them, "
            "judged on the 30 days after). random: the stratified split's 75 % "
            f"({ratings['random']:,} ratings) landed again with {TEST_SHARE:.0%} of each "
            f"user's held out (seed {VALIDATION_SEED}). Top 10; benchmarks/movielens.toml "
            "with each `cold_share`; the baselines do not depend on it (shown for each "
            "share, as a check).",
            "",
            *markdown_table(columns, ordered),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="the ml-100k folder (u.data, u.user, u.item)")
    parser.add_argument("--cold-shares", default="0,0.05,0.1,0.2")
    args = parser.parse_args()
    shares = [float(share) for share in args.cold_shares.split(",")]
    with tempfile.TemporaryDirectory(prefix="movierec-tune-masked-") as name:
        tmp = Path(name)
        ratings = {"time": write_before_cutoff(args.path, tmp / "before-cutoff")}
        landed = tmp / "landed"
        share = ["--holdout-share", str(TEST_SHARE)]
        ingest = ["ingest", "movielens", str(args.path), *share]
        run_step("ml-100k", "ingest", ingest, data_env(landed))
        ratings["random"] = write_landed_as_movielens(args.path, landed, tmp / "ml-75")
        rows = []
        for cold_share in shares:
            rows += measure(tmp, cold_share)
            print(f"cold share {cold_share}: done", flush=True)
    report = render(rows, ratings)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "tune_masked_world.md").write_text(report + "\n")
    result = {"machine": machine(), "ratings": ratings, "rows": rows}
    (RESULTS / "tune_masked_world.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
