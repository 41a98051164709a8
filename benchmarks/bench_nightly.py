"""Benchmark the nightly: `movierec nightly` end to end, `movierec recommend` alone, and
what the shortlist loses against exhaustive scoring.

Per scale, in a fresh data folder: land the world, run the nightly (build, train the
default forest, export, check, recommend, build), then `movierec recommend` alone; both
timed with peak resident memory. Then, in-process, the share of sampled users (never the
probe users that built the shortlist) whose top-10 equals exhaustive scoring's.
Prints a table and writes benchmarks/results/nightly.{json,md}.

    .venv/bin/python -m benchmarks.bench_nightly [--scales 1x,10x] [--sample-users 1000]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from benchmarks.measure import RESULTS, data_env, machine, run_step, simulate_args
from movierec.model import OnnxScorer, latest_model
from movierec.scoring import exhaustive_match_share
from movierec.settings import Paths, RecommendSettings, load
from movierec.warehouse import probe_users

_SUMMARY_LINE = re.compile(r"^  (\S.*?)\s{2,}(\d+\.\d) s$")
_PAIRS = re.compile(r"([\d,]+) pairs scored in ([\d.]+) s \(([\d,]+) pairs/s\)")


def stage_times(nightly_stdout: str) -> dict[str, float]:
    """The per-stage seconds the nightly prints in its summary."""
    stages = {}
    for line in nightly_stdout.splitlines():
        if match := _SUMMARY_LINE.match(line):
            stages[match.group(1)] = float(match.group(2))
    return stages


def match_share(data: Path, sample_users: int) -> tuple[float, int]:
    """Share of sampled non-probe users whose latest top-10 equals exhaustive scoring's."""
    paths = load().paths
    paths = Paths(paths.project_dir, data, data / "warehouse" / "movierec.duckdb")
    settings = RecommendSettings()
    with duckdb.connect(str(paths.warehouse_path)) as con:
        record = latest_model(con)
        assert record is not None
        scorer = OnnxScorer(Path(record.onnx_path).read_bytes())
        probes = set(probe_users(con, settings.probe_users_per_segment, settings.seed))
        candidates = probe_users(con, sample_users, seed=settings.seed + 1000)
        sample = [u for u in candidates if u not in probes][:sample_users]
        (run_id,) = con.execute(
            "select run_id from ml_outputs.recommendation_runs "
            "where candidate_strategy != 'exhaustive' order by generated_at desc limit 1"
        ).fetchall()[0]
        share = exhaustive_match_share(con, scorer, record.features, run_id, sample, settings)
    return share, len(sample)


@dataclass(frozen=True)
class ScaleResult:
    scale: str
    nightly_seconds: float
    nightly_peak_rss_mib: float
    nightly_stages: dict[str, float]
    recommend_seconds: float
    recommend_peak_rss_mib: float
    recommend_pairs_scored: int
    recommend_pairs_per_second: int
    top10_equal_to_exhaustive: float
    users_sampled: int


def bench_scale(scale: str, sample_users: int) -> ScaleResult:
    with tempfile.TemporaryDirectory(prefix=f"movierec-nightly-{scale}-") as tmp:
        data = Path(tmp)
        env = data_env(data)
        run_step(scale, "simulate", simulate_args(scale), env)
        nightly = run_step(scale, "nightly", ["nightly"], env)
        recommend = run_step(scale, "recommend", ["recommend"], env)
        pairs = _PAIRS.search(recommend.stdout)
        if pairs is None:
            raise SystemExit(f"no pairs-scored line in:\n{recommend.stdout}")
        share, sampled = match_share(data, sample_users)
    return ScaleResult(
        scale=scale,
        nightly_seconds=nightly.seconds,
        nightly_peak_rss_mib=nightly.peak_rss_mib,
        nightly_stages=stage_times(nightly.stdout),
        recommend_seconds=recommend.seconds,
        recommend_peak_rss_mib=recommend.peak_rss_mib,
        recommend_pairs_scored=int(pairs.group(1).replace(",", "")),
        recommend_pairs_per_second=int(pairs.group(3).replace(",", "")),
        top10_equal_to_exhaustive=round(share, 4),
        users_sampled=sampled,
    )


def render(results: list[ScaleResult]) -> str:
    lines = [
        f"Nightly benchmark, {datetime.now(UTC):%Y-%m-%d}, {machine()}",
        "",
        "| scale | nightly wall (s) | nightly peak RSS (MiB) | recommend wall (s) "
        "| recommend peak RSS (MiB) | pairs scored | pairs/s | top-10 = exhaustive |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.scale} | {r.nightly_seconds:.1f} | {r.nightly_peak_rss_mib:.0f} "
        f"| {r.recommend_seconds:.1f} | {r.recommend_peak_rss_mib:.0f} "
        f"| {r.recommend_pairs_scored:,} | {r.recommend_pairs_per_second:,} "
        f"| {r.top10_equal_to_exhaustive:.1%} of {r.users_sampled} users |"
        for r in results
    ]
    lines += ["", "| scale | nightly stage | seconds |", "|---|---|---:|"]
    for r in results:
        lines += [f"| {r.scale} | {name} | {sec:.1f} |" for name, sec in r.nightly_stages.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1x,10x", help="comma-separated, from: 1x, 10x")
    parser.add_argument("--sample-users", type=int, default=1_000)
    args = parser.parse_args()
    results = [bench_scale(scale, args.sample_users) for scale in args.scales.split(",")]
    report = render(results)
    print(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "nightly.md").write_text(report)
    payload = {"machine": machine(), "results": [asdict(r) for r in results]}
    (RESULTS / "nightly.json").write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
