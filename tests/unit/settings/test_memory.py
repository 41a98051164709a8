"""DuckDB's memory_limit: how a size is read, the default rule, the chunk sizes it sets."""

from __future__ import annotations

import duckdb
import pytest

from movierec.errors import SettingsError
from movierec.settings import (
    feature_rows_per_batch,
    load,
    pairs_per_chunk,
    parse_size,
    retrieval_requests_per_chunk,
)
from movierec.settings.memory import GIB, as_duckdb_size, default_memory_limit
from movierec.warehouse import memory_limit


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("2GB", 2_000_000_000),
        ("512MB", 512_000_000),
        ("1.5GiB", 3 * GIB // 2),
        ("1.8 GiB", int(1.8 * GIB)),  # as DuckDB shows a limit
        ("2048mib", 2 * GIB),
    ],
)
def test_sizes_read_as_duckdb_writes_them(text: str, size: int) -> None:
    assert parse_size(text, "X") == size


@pytest.mark.parametrize("text", ["lots", "2", "GB", "0GB", "-1GB", "2 GBs"])
def test_a_malformed_size_names_its_setting(text: str) -> None:
    with pytest.raises(SettingsError, match=r"^X: "):
        parse_size(text, "X")


def test_the_default_is_a_quarter_of_the_machine_within_bounds() -> None:
    assert default_memory_limit(24 * GIB) == 2 * GIB
    assert default_memory_limit(4 * GIB) == GIB
    assert default_memory_limit(GIB) == GIB // 2
    assert as_duckdb_size(2 * GIB) == "2048MiB"


def test_load_checks_the_environment_and_applies_the_rule() -> None:
    assert load({"MOVIEREC_DUCKDB_MEMORY_LIMIT": "3GB"}).paths.memory_limit == "3GB"
    with pytest.raises(SettingsError, match=r"^MOVIEREC_DUCKDB_MEMORY_LIMIT: 'lots'"):
        load({"MOVIEREC_DUCKDB_MEMORY_LIMIT": "lots"})
    limit = load({}).paths.memory_limit_bytes
    assert GIB // 2 <= limit <= 2 * GIB


def test_chunk_sizes_follow_the_limit() -> None:
    assert pairs_per_chunk(2 * GIB) == 524_288
    assert pairs_per_chunk(GIB // 2) == 131_072
    assert retrieval_requests_per_chunk(2 * GIB) == 4_096
    assert retrieval_requests_per_chunk(1) == 1


def test_training_feature_batches_follow_the_limit_measured_at_100x() -> None:
    """The batches benchmarks/measure_feature_memory.py saw complete at each limit."""
    assert feature_rows_per_batch(4 * GIB) == 1_048_576
    assert feature_rows_per_batch(2 * GIB) == 524_288
    assert feature_rows_per_batch(GIB) == 131_072
    assert feature_rows_per_batch(768 * 1024**2) == 73_728
    assert feature_rows_per_batch(GIB // 2) == 32_768
    assert feature_rows_per_batch(1) == 1


def test_the_feature_batch_size_can_be_set() -> None:
    assert load({"MOVIEREC_FEATURE_BATCH_ROWS": "1_000"}).paths.rows_per_feature_batch == 1_000
    assert load({}).paths.feature_batch_rows is None
    with pytest.raises(SettingsError, match=r"^MOVIEREC_FEATURE_BATCH_ROWS: '0'"):
        load({"MOVIEREC_FEATURE_BATCH_ROWS": "0"})


def test_a_connection_tells_its_limit() -> None:
    with duckdb.connect(config={"memory_limit": "3GiB"}) as con:
        assert memory_limit(con) == 3 * GIB
