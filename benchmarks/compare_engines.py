"""DuckDB and Spark side by side on one simulated world (docs/spark.md): the same dbt build
of the landed-data models from an empty warehouse, then the same ranking (retrieval,
features, the registered ONNX model, top 10) of every user; time per step, and whether
the engines agree (tables and lists).

    python -m benchmarks.compare_engines [--scale 1x] [--data DIR]

`--data` reuses a data folder with a published warehouse (its registered model ranks);
without it a fresh world of the scale gets a cold DuckDB nightly first.
Results: benchmarks/results/engines_<scale>.{json,md}.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl

from benchmarks.measure import machine, markdown_table, published_warehouse, write_results
from movierec.model import load_scorer, registered_model
from movierec.scoring.ranking import rank_users
from movierec.scoring.spark import rank_on_spark
from movierec.settings import Engine, Paths, RecommendSettings, load
from movierec.warehouse import BEFORE_PYTHON, connect, run_dbt
from movierec.warehouse.parity import table_differences
from movierec.warehouse.spark import read_spark_table, spark_session

COMPARED = ("core.fct_interactions", "ml.ml_training_features")


def build(paths: Paths, engine: Engine) -> float:
    """Seconds of `dbt build --full-refresh` of the landed-data models on `engine`."""
    started = time.perf_counter()
    run_dbt(paths, ["build", "--full-refresh", *BEFORE_PYTHON], engine=engine)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1x")
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engines-") as tmp:
        published = published_warehouse(args.scale, args.data, Path(tmp))
        data = published.parents[1]
        with duckdb.connect(str(published), read_only=True) as con:
            model = registered_model(con)
        # both engines build from nothing beside the published installation
        paths = replace(
            load().paths,
            data_dir=data,
            warehouse_path=Path(tmp) / "engines" / "duckdb.duckdb",
        )
        shutil.rmtree(paths.spark_dir, ignore_errors=True)
        seconds = {"duckdb build": build(paths, "duckdb"), "spark build": build(paths, "spark")}

        settings = RecommendSettings()
        with connect(paths) as con:
            started = time.perf_counter()
            on_duckdb = rank_users(con, load_scorer(model), model.features, settings).top_n
            seconds["duckdb rank"] = time.perf_counter() - started
            duckdb_tables = {name: con.sql(f"select * from {name}").to_arrow_table()
                             for name in COMPARED}  # fmt: skip
        started = time.perf_counter()
        with spark_session(paths) as session:
            seconds["spark session"] = time.perf_counter() - started
            started = time.perf_counter()
            onnx = Path(model.onnx_path).read_bytes()
            on_spark = rank_on_spark(session, onnx, model.features, settings.top_n)
            seconds["spark rank"] = time.perf_counter() - started
            differences = {
                name: table_differences(table, read_spark_table(session, name))
                for name, table in duckdb_tables.items()
            }
    lists = ["user_id", "rank", "movie_id"]
    a = pl.from_arrow(on_duckdb.select(lists))
    b = pl.from_arrow(on_spark.select(lists))
    assert isinstance(a, pl.DataFrame)
    assert isinstance(b, pl.DataFrame)
    differing_rows = a.join(b, on=lists, how="anti").height + b.join(a, on=lists, how="anti").height
    rows = [
        {"scale": args.scale, "step": step, "seconds": round(value, 1)}
        for step, value in seconds.items()
    ]
    summary = {
        "scale": args.scale,
        "list_rows": a.height,
        "list_rows_differing": differing_rows,
        "table_differences": differences,
    }
    markdown = "\n".join(
        [
            f"# DuckDB and Spark at {args.scale}",
            "",
            f"`python -m benchmarks.compare_engines --scale {args.scale}`; {machine()}; "
            "Spark local[*], one machine.",
            "",
            *markdown_table([("step", "step"), (">seconds", "seconds")], rows),
            "",
            f"Lists: {a.height:,} rows on DuckDB, {b.height:,} on Spark, {differing_rows:,} "
            "(user, rank, film) rows in one and not the other.",
            "",
            "Tables compared (floats within 1e-9 relative): "
            + "; ".join(f"{name}: {found or 'equal'}" for name, found in differences.items()),
            "",
        ]
    )
    write_results(f"engines_{args.scale}", [*rows, summary], markdown)


if __name__ == "__main__":
    main()
