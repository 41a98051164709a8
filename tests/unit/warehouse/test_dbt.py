"""What movierec says when dbt runs out of memory, and the arguments dbt gets."""

from __future__ import annotations

from pathlib import Path

from movierec.errors import OutOfMemoryError
from movierec.settings import Paths
from movierec.warehouse.dbt import FAILED_MODEL, dbt_arguments, memory_advice

# dbt 1.11's summary of a model that ran out of memory, as its stdout prints it
SUMMARY = (
    "\x1b[0m06:01:12    Runtime Error in model ml_training_features "
    "(models/marts/ml/ml_training_features.sql)\n"
)


def test_dbt_names_the_failed_model_in_its_summary() -> None:
    assert FAILED_MODEL.findall(SUMMARY) == ["ml_training_features"]
    assert FAILED_MODEL.findall("06:01:12  1 of 9 OK created sql view model ml.x\n") == []


def test_out_of_memory_in_the_batched_model_also_names_the_batch_setting() -> None:
    advice = memory_advice({"ml_training_features"})
    error = OutOfMemoryError(" in `dbt build`", "2GB", advice)
    assert str(error) == (
        "out of memory in `dbt build`: DuckDB's memory_limit is 2GB "
        "(MOVIEREC_DUCKDB_MEMORY_LIMIT, for movierec's connections and dbt's); raise it, "
        "lower MOVIEREC_FEATURE_BATCH_ROWS (the viewings ml_training_features builds at a "
        "time; default: from the memory_limit), or give the machine more memory "
        "(docs/memory.md)"
    )


def test_out_of_memory_elsewhere_names_the_memory_limit_only() -> None:
    assert memory_advice({"int_movie_pair_histories_accumulated"}) == ""
    assert memory_advice(set()) == ""
    assert str(OutOfMemoryError(" in `dbt build`", "2GB", "")).endswith(
        "raise it, or give the machine more memory (docs/memory.md)"
    )


def test_every_dbt_command_gets_the_installations_vars_under_the_callers() -> None:
    """One --vars (dbt reads only the last one): the installation's retrieval_candidates,
    with a caller's own vars (the masked world's) added and winning a clash; none when
    the installation sets none, so dbt_project.yml's defaults hold."""
    paths = Paths(Path("/p"), Path("/d"), Path("/d/w.duckdb"), retrieval_candidates=200)
    assert dbt_arguments(paths, ["run"]) == ["run", "--vars", '{"retrieval_candidates": 200}']
    masked = dbt_arguments(paths, ["run"], "spark", {"training_mask_share": 0.25})
    assert masked == [
        "run",
        "--target",
        "spark",
        "--vars",
        '{"retrieval_candidates": 200, "training_mask_share": 0.25}',
    ]
    assert dbt_arguments(paths, ["ls"], variables={"retrieval_candidates": 5})[-1] == (
        '{"retrieval_candidates": 5}'
    )
    plain = Paths(Path("/p"), Path("/d"), Path("/d/w.duckdb"))
    assert dbt_arguments(plain, ["build", "--select", "x"]) == ["build", "--select", "x"]
