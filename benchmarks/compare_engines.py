"""DuckDB and Spark side by side on one simulated world (docs/spark.md): a cold
`movierec nightly` on each engine, each in a fresh process, one after the other; wall time,
time per step, peak RSS, and whether the two served the same model and the same lists.

    python -m benchmarks.compare_engines [--scale 1x]

Peak RSS counts the movierec process and what it waited for (its own Spark JVM, dbt), not
the JVM that dbt's spark target starts, which outlives dbt by a moment and is nobody's
child to wait for. Results: benchmarks/results/engines_<scale>.{json,md}.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.measure import (
    data_env,
    machine,
    markdown_table,
    run_step,
    simulate_args,
    write_results,
)
from movierec.model import registered_model
from movierec.settings import Paths, load
from movierec.warehouse import query_frame, spark_session

LATEST = "select user_id, recommendation_rank as rank, movie_id from ml.ml_recommendations_latest"
# "  dbt build                 64.8 s" in a nightly's summary
STEP_LINE = re.compile(r"^  (\S.*?)\s+([\d.]+) s$", re.MULTILINE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1x")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    steps: dict[str, dict[str, float]] = {}  # engine -> step -> seconds
    with tempfile.TemporaryDirectory(prefix="engines-") as tmp:
        data = Path(tmp) / "data"
        env = data_env(data)
        run_step(args.scale, "simulate", simulate_args(args.scale), env)
        for engine, flags in (("duckdb", ["--no-evaluate-new-model"]), ("spark", [])):
            done = run_step(args.scale, engine, ["nightly", "--engine", engine, *flags], env)
            steps[engine] = {step: float(s) for step, s in STEP_LINE.findall(done.stdout)}
            steps[engine].pop("total", None)
            rows.append(
                {
                    "scale": args.scale,
                    "engine": engine,
                    "wall_seconds": done.seconds,
                    "peak_rss_mib": done.peak_rss_mib,
                    "steps": steps[engine],
                }
            )
        with duckdb.connect(str(data / "warehouse" / "movierec.duckdb"), read_only=True) as con:
            on_duckdb = query_frame(con, LATEST)
            duckdb_sha = registered_model(con).onnx_sha256
        paths = Paths(load().paths.project_dir, data, data / "warehouse" / "movierec.duckdb")
        with spark_session(paths) as session:
            on_spark = pl.from_arrow(session.sql(LATEST).toArrow())
            shas = session.sql("select onnx_sha256 from ml_outputs.model_registry").collect()
    assert isinstance(on_spark, pl.DataFrame)
    on_spark = on_spark.cast(on_duckdb.schema)
    same_model = [row.onnx_sha256 for row in shas] == [duckdb_sha]
    differing = on_duckdb.join(on_spark, on=list(on_duckdb.columns), how="anti").height
    comparison = {
        "scale": args.scale,
        "list_rows_duckdb": on_duckdb.height,
        "list_rows_spark": on_spark.height,
        "list_rows_only_on_duckdb": differing,
        "same_onnx_file": same_model,
    }
    names = list(dict.fromkeys(name for engine in steps.values() for name in engine))
    table: list[dict[str, object]] = [
        {"step": name, **{engine: seconds.get(name) for engine, seconds in steps.items()}}
        for name in names
    ]
    for label, key in (("wall (process)", "wall_seconds"), ("peak RSS (MiB)", "peak_rss_mib")):
        table.append({"step": label, **{str(r["engine"]): r[key] for r in rows}})
    markdown = "\n".join(
        [
            f"# A cold nightly on DuckDB and on Spark, {args.scale}",
            "",
            f"`python -m benchmarks.compare_engines --scale {args.scale}`; {machine()}; "
            "Spark local[*] on the same machine. Seconds.",
            "",
            *markdown_table([("step", "step"), (">duckdb", "duckdb"), (">spark", "spark")], table),
            "",
            f"Lists: {on_duckdb.height:,} rows on DuckDB, {on_spark.height:,} on Spark, "
            f"{differing:,} of DuckDB's (user, rank, film) rows missing on Spark; the same "
            f"ONNX file (sha256): {same_model}.",
            "",
        ]
    )
    write_results(f"engines_{args.scale}", [*rows, comparison], markdown)


if __name__ == "__main__":
    main()
