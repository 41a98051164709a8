"""The cold nightly at 1x, 10x and 100x, stage by stage, per 100,000 users: one table and
one chart from results already measured (no run of its own).

- 1x and 10x: day 0 of `python -m benchmarks.bench_days --scale S --days 0 --no-evaluate
  --output cold_S` (benchmarks/results/cold_<scale>.json), or of a days run;
- 100x: the by-hand run's results file (its `nightly summary` block and
  `/usr/bin/time -v`'s peak RSS), run as docs/benchmarks.md#the-100x-cold-nightly says.

    .venv/bin/python -m benchmarks.plot_cold_nightlies [--1x cold_1x] [--10x days_10x]
        [--100x cold_nightly_100x_fixed_estimates]

Writes benchmarks/results/cold_nightlies.{md,json,svg}.
"""

from __future__ import annotations

import argparse
import json
import re

from benchmarks.measure import RESULTS, SCALES, markdown_table
from movierec.reporting.svg import line_chart

STAGES = ("check + stage", "dbt build (features)", "train + export", "recommend",
          "dbt build (outputs)")  # fmt: skip
_SUMMARY_LINE = re.compile(r"^\s{2}(\S.*?)\s{2,}([\d.]+) s$", re.MULTILINE)
_PEAK_KIB = re.compile(r"peak RSS ([\d,]+) KiB")
_HEADER_DATE = re.compile(r", (\d{4}-\d{2}-\d{2}), ")


def from_days(name: str) -> dict[str, object]:
    """Day 0 of a bench_days results file."""
    payload = json.loads((RESULTS / f"{name}.json").read_text())
    night = payload["nights"][0]
    date = _HEADER_DATE.search((RESULTS / f"{name}.md").read_text().splitlines()[0])
    return {
        "source": name,
        "date": date.group(1) if date else None,
        "wall": round(night["seconds"], 1),
        "peak_rss_mib": round(night["peak_rss_mib"]),
        **{stage: night["stages"].get(stage, 0.0) for stage in STAGES},
    }


def from_summary(name: str) -> dict[str, object]:
    """A by-hand run's results file: its nightly summary and peak RSS."""
    text = (RESULTS / f"{name}.md").read_text()
    stages = dict(_SUMMARY_LINE.findall(text[text.index("nightly summary") :]))
    peak = _PEAK_KIB.search(text)
    date = _HEADER_DATE.search(text.splitlines()[0])
    if peak is None or "total" not in stages:
        raise SystemExit(f"{name}.md has no nightly summary with a total, or no peak RSS")
    return {
        "source": name,
        "date": date.group(1) if date else None,
        "wall": float(stages["total"]),
        "peak_rss_mib": round(int(peak.group(1).replace(",", "")) / 1024),
        **{stage: float(stages.get(stage, 0.0)) for stage in STAGES},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--1x", dest="one", default="cold_1x")
    parser.add_argument("--10x", dest="ten", default="days_10x")
    parser.add_argument("--100x", dest="hundred", default="cold_nightly_100x_fixed_estimates")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    series: dict[str, list[float]] = {s: [] for s in ("wall", "recommend", *STAGES[1:3])}
    for scale, row in (("1x", from_days(args.one)), ("10x", from_days(args.ten)),
                       ("100x", from_summary(args.hundred))):  # fmt: skip
        users = SCALES[scale][0]
        per_100k = {s: round(float(str(row[s])) * 100_000 / users, 1) for s in (*STAGES, "wall")}
        for name, values in series.items():
            values.append(per_100k[name])
        rows.append({"scale": scale, "users": users, **row, "wall per 100k": per_100k["wall"]})
    columns = [("scale", "scale"), (">users", "users"), (">wall (s)", "wall"),
               (">peak RSS (MiB)", "peak_rss_mib")]  # fmt: skip
    columns += [(f">{s} (s)", s) for s in STAGES]
    columns += [(">wall per 100k users (s)", "wall per 100k"), ("from", "source"), ("date", "date")]
    markdown = (
        "Cold nightly by scale (without evaluation), 2-core machine: seconds per stage, and "
        "the wall time per 100,000 users (wall: the process's for bench_days runs, the "
        "nightly summary's total for the by-hand run). Each row is one run (its results "
        "file named in `from`).\n\n" + "\n".join(markdown_table(columns, rows)) + "\n"
    )
    (RESULTS / "cold_nightlies.md").write_text(markdown)
    (RESULTS / "cold_nightlies.json").write_text(json.dumps({"rows": rows}, indent=2) + "\n")
    chart = line_chart(
        "cold_nightlies",
        "Cold nightly: seconds per 100,000 users, by scale",
        [str(r["scale"]) for r in rows],
        series,
    )
    (RESULTS / "cold_nightlies.svg").write_text(chart + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
