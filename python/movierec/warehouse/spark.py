"""The edge where movierec meets Apache Spark (docs/spark.md): the environment of dbt's
`spark` target (profiles.yml), and a pyspark session of this process on the same metastore
and tables, with the settings that target gives its own session."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pyarrow as pa
import yaml

from movierec.errors import SettingsError
from movierec.settings import Paths
from movierec.warehouse.connection import sql_file

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SPARK_TARGET = "spark"
SPARK_DIR_ENV = "MOVIEREC_SPARK_DIR"


def require_java(env: Mapping[str, str] | None = None) -> str:
    """The java Spark will launch with `env` (this process's environment by default):
    JAVA_HOME's, else the first on PATH, as spark-class looks for it. SettingsError when
    there is none, before anything starts."""
    env = os.environ if env is None else env
    home = env.get("JAVA_HOME")
    java = f"{home}/bin/java" if home else shutil.which("java", path=env.get("PATH"))
    if not java or not os.access(java, os.X_OK):
        raise SettingsError(
            "the spark engine needs Java 17: no java "
            + (f"at JAVA_HOME ({home})" if home else "on PATH and JAVA_HOME is not set")
            + " (docs/spark.md)"
        )
    return java


def spark_env(
    paths: Paths, spark_dir: Path | None = None, *, absolute: bool = False
) -> dict[str, str]:
    """What the spark target (and any pyspark) needs: the Spark warehouse to open,
    `spark_dir` (a version's folder; the published one by default), relative to the data
    folder, which dbt runs in, or `absolute`; the Python its workers run (this one); and a
    loopback address to bind to."""
    spark_dir = spark_dir or paths.spark_published
    if not absolute:
        spark_dir = Path(os.path.relpath(spark_dir, paths.data_dir))
    return {
        SPARK_DIR_ENV: str(spark_dir),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
    }


def session_parameters(paths: Paths, env: Mapping[str, str]) -> dict[str, str]:
    """The `server_side_parameters` of profiles.yml's spark target, rendered as dbt renders
    them (`env_var` reads `env`, then this process's environment): the one place the
    session's settings are written."""

    def env_var(name: str, default: str | None = None) -> str:
        value = env.get(name, os.environ.get(name, default))
        if value is None:
            raise KeyError(f"profiles.yml: environment variable {name} is not set")
        return value

    rendered = jinja2.Template((paths.project_dir / "profiles.yml").read_text()).render(
        env_var=env_var
    )
    target = yaml.safe_load(rendered)["movierec"]["outputs"][SPARK_TARGET]
    return {str(k): str(v) for k, v in target.get("server_side_parameters", {}).items()}


@contextmanager
def spark_session(paths: Paths, spark_dir: Path | None = None) -> Iterator[SparkSession]:
    """A local pyspark session on a Spark warehouse of the installation: `spark_dir` (the
    folder of a version dbt's spark target built), the published one by default; stopped
    on exit. One process at a time may hold a version's metastore: never while dbt runs
    on it. SettingsError when nothing is published on Spark yet."""
    if spark_dir is None and not paths.spark_published.exists():
        raise SettingsError(
            f"nothing is published on Spark yet ({paths.spark_published} does not exist): "
            "run `movierec nightly --engine spark` first"
        )
    env = spark_env(paths, spark_dir, absolute=True)
    os.environ.update({k: v for k, v in env.items() if k != SPARK_DIR_ENV})
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_parameters(paths, env).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    try:
        yield session
    finally:
        session.stop()
        _end_jvm()


def _end_jvm() -> None:
    """End this process's JVM: embedded Derby keeps the metastore locked until the JVM
    that opened it exits, and dbt opens it from another process. The JVM exits when its
    stdin closes; the next session launches a new one."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    gateway.shutdown()
    process = getattr(gateway, "proc", None)
    if process is not None and process.stdin is not None:
        process.stdin.close()
        process.wait(timeout=120)
    SparkContext._gateway = None
    SparkContext._jvm = None


def read_spark_table(session: SparkSession, name: str) -> pa.Table:
    """A whole Spark table (or view) as Arrow."""
    return session.table(name).toArrow()


def spark_sql(session: SparkSession, package: str, name: str, **params: object) -> DataFrame:
    """One of a package's SQL files (DuckDB's `$name` parameters) run on Spark, whose
    parameter markers are `:name`."""
    return session.sql(re.sub(r"\$(\w+)", r":\1", sql_file(package, name)), args=params)


def replace_rows(session: SparkSession, table: str, select_sql: str) -> None:
    """Replace every row of `table` with those of `select_sql` (matched by column name)."""
    columns = ", ".join(session.table(table).columns)
    session.sql(f"insert overwrite table {table} select {columns} from ({select_sql}) as rows")


def append_rows(session: SparkSession, table: str, rows: pa.Table) -> None:
    """Append the Arrow `rows` to `table`, matched by column name and cast to its types."""
    session.createDataFrame(rows).createOrReplaceTempView("appended_rows")
    columns = ", ".join(
        f"cast({field.name} as {field.dataType.simpleString()}) as {field.name}"
        for field in session.table(table).schema.fields
    )
    session.sql(f"insert into {table} select {columns} from appended_rows")
    session.catalog.dropTempView("appended_rows")


def keep_spark_film_signals(session: SparkSession) -> None:
    """`keep_film_signals` (warehouse/requests.py) on Spark: add the current scoring
    requests' film-level signals that scoring.film_signals lacks, collected first (at most
    films x moments rows), since the view reads the table they are added to."""
    missing = session.table("ml.ml_scoring_film_signals").toArrow()
    append_rows(session, "scoring.film_signals", missing)


def spark_query(session: SparkSession) -> Callable[[str], list[tuple[Any, ...]]]:
    """SQL in, rows out, on `session` (the audit's `Query`)."""
    return lambda sql: [tuple(row) for row in session.sql(sql).collect()]


def spark_tables(session: SparkSession, schemas: Iterable[str]) -> set[str]:
    """`schema.name` of every table and view in `schemas` that exist."""
    return {
        f"{schema}.{table.name}"
        for schema in schemas
        if session.catalog.databaseExists(schema)
        for table in session.catalog.listTables(schema)
    }


def table_folder(spark_dir: Path, table: str) -> Path:
    """Where a managed table `schema.name` of the Spark warehouse `spark_dir` keeps its
    files (Spark's layout under `spark.sql.warehouse.dir`, profiles.yml)."""
    schema, name = table.split(".")
    return spark_dir / "tables" / f"{schema}.db" / name


def copy_table_files(source_dir: Path, target_dir: Path, table: str) -> int:
    """Copy the data files of the Parquet table `table` from one Spark warehouse into the
    same, empty, table of another: the rows a new version carries from the published one.
    Returns how many files it copied."""
    source, target = table_folder(source_dir, table), table_folder(target_dir, table)
    target.mkdir(parents=True, exist_ok=True)
    files = [f for f in source.glob("*") if f.is_file() and not f.name.startswith(("_", "."))]
    for file in files:
        shutil.copy2(file, target / file.name)
    return len(files)
