"""Where `movierec evaluate` spends its time: each of its parts timed, on a copy of a data
folder whose nightly has published (the copy is removed after; the original is untouched).

Each function the evaluation calls (retrieval, the refit, scoring, each baseline, the
truth, the metrics) is wrapped in a timer for one run of the default evaluation (time
split, the nightly's settings), so the seconds are summed over its calls. Nested parts
overlap: `_model_lists` holds `training_rows`, `fit_forest` and `rank_users`;
`candidate_recall` calls `ranking_metrics`.

    .venv/bin/python -m benchmarks.profile_evaluation DATA_FOLDER [--name N]

To time another checkout's code, put its package first:
`PYTHONPATH=/tmp/before/python .venv/bin/python -m benchmarks.profile_evaluation ...`.
Writes benchmarks/results/profile_evaluation[_<name>].{md,json}.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import movierec
import movierec.evaluation.offline as offline
from benchmarks.compare_nightly import commit_of
from benchmarks.measure import machine, markdown_table, write_results

# the functions of evaluation/offline.py that do the work, in the order they run
PARTS = (
    "retrieve_candidates", "_model_lists", "training_rows", "fit_forest", "to_onnx",
    "rank_users", "knn_lists", "_baseline_lists", "_truth", "truth_of",
    "best_expected_likes", "expected_like_ratio", "ranking_metrics", "catalogue_metrics",
    "candidate_recall", "reranking_ceiling", "query_frame",
)  # fmt: skip
# the checkout whose package is imported: this one, or the one PYTHONPATH names
PACKAGE_CHECKOUT = Path(movierec.__file__).resolve().parents[2]


def timed(seconds: dict[str, float], calls: dict[str, int], name: str) -> None:
    """Replace offline.NAME by a wrapper adding its seconds (per baseline, by its name)."""
    function: Callable[..., Any] = getattr(offline, name)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            part = f"{name}[{args[1]}]" if name == "_baseline_lists" else name
            seconds[part] += time.perf_counter() - started
            calls[part] += 1

    setattr(offline, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="a data folder whose nightly has published")
    parser.add_argument("--name", help="results as profile_evaluation_<name>")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="movierec-profile-", dir=args.data.parent) as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(args.data, copy)
        os.environ["MOVIEREC_DATA_DIR"] = str(copy)
        os.environ["MOVIEREC_DUCKDB_PATH"] = str(copy / "warehouse" / "movierec.duckdb")
        # imported here: the settings read the environment set just above
        from movierec.cli._common import settings
        from movierec.flows.steps import evaluate_into
        from movierec.settings import EvaluateSettings

        seconds: dict[str, float] = defaultdict(float)
        calls: dict[str, int] = defaultdict(int)
        for name in PARTS:
            timed(seconds, calls, name)
        started = time.perf_counter()
        evaluation = evaluate_into(settings().paths, EvaluateSettings(), print)
        total = time.perf_counter() - started
    rows: list[dict[str, object]] = [
        {"part": part, "calls": calls[part], "seconds": round(seconds[part], 2)}
        for part in sorted(seconds, key=lambda p: -seconds[p])
    ]
    markdown = "\n".join(
        [
            f"`movierec evaluate`'s parts, {datetime.now(UTC):%Y-%m-%d}, {machine()}",
            "",
            f"Code: {commit_of(PACKAGE_CHECKOUT)}. Data: {args.data.name} (a copy). Evaluation "
            f"{evaluation.evaluation_id}, {evaluation.metrics.height:,} metrics: "
            f"**{total:.1f} s** in all.",
            "",
            "Seconds summed over each part's calls; nested parts overlap (`_model_lists` "
            "holds `training_rows`, `fit_forest` and `rank_users`; `candidate_recall` calls "
            "`ranking_metrics`).",
            "",
            *markdown_table([("part", "part"), (">calls", "calls"), (">seconds", "seconds")], rows),
        ]
    )
    name = "profile_evaluation" + (f"_{args.name}" if args.name else "")
    write_results(name, [{"total_seconds": round(total, 2)}, *rows], markdown + "\n")


if __name__ == "__main__":
    main()
