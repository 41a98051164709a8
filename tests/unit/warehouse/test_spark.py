"""The Spark engine's settings: profiles.yml's spark target, read once by dbt and Python."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from movierec.errors import SettingsError
from movierec.warehouse.spark import SPARK_DIR_ENV, require_java, session_parameters, spark_env
from tests.conftest import REPO
from tests.integration.harness import paths_for


def test_dbt_finds_the_spark_warehouse_relative_to_the_data_folder(tmp_path: Path) -> None:
    """dbt opens the version a run builds, or by default the published one (the link)."""
    paths = paths_for(tmp_path / "data")
    assert spark_env(paths)[SPARK_DIR_ENV] == "spark/published"
    env = spark_env(paths, paths.spark_dir / "versions" / "p1")
    assert env[SPARK_DIR_ENV] == "spark/versions/p1"
    assert env["PYSPARK_PYTHON"] == sys.executable


def test_python_opens_the_metastore_and_tables_dbt_builds(tmp_path: Path) -> None:
    """The session Python opens has the spark target's settings, with the version's folder
    absolute, so it finds the same metastore from any working directory."""
    paths = paths_for(tmp_path / "data")
    spark_dir = paths.data_dir / "spark" / "versions" / "p1"
    parameters = session_parameters(paths, spark_env(paths, spark_dir, absolute=True))
    assert paths.project_dir == REPO
    assert parameters["spark.sql.warehouse.dir"] == f"{spark_dir}/tables"
    assert parameters["spark.hadoop.javax.jdo.option.ConnectionURL"] == (
        f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true"
    )
    assert parameters["spark.sql.session.timeZone"] == "UTC"
    assert parameters["spark.master"] == os.environ.get("MOVIEREC_SPARK_MASTER", "local[*]")


def test_java_is_found_as_spark_finds_it_or_named_missing(tmp_path: Path) -> None:
    """JAVA_HOME's java first, else the first on PATH; none: a SettingsError saying where
    it looked, before Spark fails somewhere in its launcher."""
    bin_dir = tmp_path / "jdk" / "bin"
    bin_dir.mkdir(parents=True)
    java = bin_dir / "java"
    java.write_text("#!/bin/sh\n")
    java.chmod(0o755)
    assert require_java({"JAVA_HOME": str(tmp_path / "jdk")}) == str(java)
    assert require_java({"PATH": f"{tmp_path}:{bin_dir}"}) == str(java)
    with pytest.raises(SettingsError, match="needs Java 17: no java on PATH and JAVA_HOME"):
        require_java({"PATH": str(tmp_path)})
    with pytest.raises(SettingsError, match=f"no java at JAVA_HOME \\({tmp_path}\\)"):
        require_java({"JAVA_HOME": str(tmp_path), "PATH": str(bin_dir)})
