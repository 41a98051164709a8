"""What movierec says when dbt runs out of memory."""

from __future__ import annotations

from movierec.errors import OutOfMemoryError
from movierec.warehouse.dbt import FAILED_MODEL, memory_advice

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
