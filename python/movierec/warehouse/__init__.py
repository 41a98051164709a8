"""Floor 2: the warehouse as movierec's Python sees it. Running dbt, opening DuckDB, the
tables Python writes, the feature contract and the feature reader, scoring requests."""

from movierec.warehouse.batches import BATCHED_MODEL, Window, feature_windows
from movierec.warehouse.connection import connect, memory_limit, query_frame, sql_file
from movierec.warehouse.dbt import (
    AFTER_PYTHON,
    BEFORE_PYTHON,
    DbtResult,
    as_dbt_reads,
    dbt_build,
    dbt_command,
    run_dbt,
)
from movierec.warehouse.features import (
    FeatureContract,
    feature_batches,
    feature_matrix,
    float32_select,
    parse_feature_contract,
)
from movierec.warehouse.incremental import (
    BuildPlan,
    BuiltFrom,
    LandedBatch,
    plan_build,
    project_fingerprint,
    read_built_from,
    record_build,
    redelivered,
)
from movierec.warehouse.requests import (
    RETRIEVED_COLUMNS,
    keep_retrieved,
    probe_users,
    request_all_films,
    request_pairs,
    request_retrieval,
    retrieve,
    retrieve_candidates,
    retrieved,
)
from movierec.warehouse.spark import (
    append_rows,
    read_spark_table,
    replace_rows,
    require_java,
    spark_session,
    spark_sql,
)
from movierec.warehouse.tables import OutputTable, create_tables, output_tables

__all__ = [
    "AFTER_PYTHON",
    "BATCHED_MODEL",
    "BEFORE_PYTHON",
    "RETRIEVED_COLUMNS",
    "BuildPlan",
    "BuiltFrom",
    "DbtResult",
    "FeatureContract",
    "LandedBatch",
    "OutputTable",
    "Window",
    "append_rows",
    "as_dbt_reads",
    "connect",
    "create_tables",
    "dbt_build",
    "dbt_command",
    "feature_batches",
    "feature_matrix",
    "feature_windows",
    "float32_select",
    "keep_retrieved",
    "memory_limit",
    "output_tables",
    "parse_feature_contract",
    "plan_build",
    "probe_users",
    "project_fingerprint",
    "query_frame",
    "read_built_from",
    "read_spark_table",
    "record_build",
    "redelivered",
    "replace_rows",
    "request_all_films",
    "request_pairs",
    "request_retrieval",
    "require_java",
    "retrieve",
    "retrieve_candidates",
    "retrieved",
    "run_dbt",
    "spark_session",
    "spark_sql",
    "sql_file",
]
