"""How much memory DuckDB may use, and the chunk sizes that follow from it (pure functions;
docs/memory.md). Every DuckDB that movierec opens (its own connections and dbt's, through
profiles.yml) gets the same `memory_limit` and spills to a `temp_directory` beside its
database file when a query needs more."""

from __future__ import annotations

import re

from movierec.errors import SettingsError

KIB = 1024
GIB = KIB**3
_UNITS = {
    "B": 1,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KIB": KIB,
    "MIB": KIB**2,
    "GIB": GIB,
    "TIB": KIB**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B)\s*$", re.IGNORECASE)

# The default limit: a quarter of the machine's memory, between these bounds. The upper
# bound keeps a nightly's whole process (DuckDB, the model, Arrow batches) inside 4 GB, the
# resident memory the 100x nightly is held to; raise it on a larger machine with
# MOVIEREC_DUCKDB_MEMORY_LIMIT.
MIN_DEFAULT_LIMIT = GIB // 2
MAX_DEFAULT_LIMIT = 2 * GIB
# Scoring holds about this much DuckDB memory per (user, film) pair of a chunk: features,
# keys and scores, with the joins that build them. Measured at 10x while the features
# still joined the co-viewing histories (ten rows per pair; dropped since, not remeasured:
# benchmarks/measure_scoring_memory.py, docs/memory.md): the feature stream of 1M pairs
# needed between 1.86 and 2.33 GiB, of 500k pairs between 0.93 and 1.16 GiB, about 2.3 KB
# a pair; twice that leaves room for longer histories. Since the film histories are no
# longer materialised whole per query, a chunk's time is about proportional to its pairs
# (at 100x: 524,200 pairs 1.7 s, 1,048,400 pairs 3.4 s), so larger chunks would save little.
BYTES_PER_PAIR = 4 * KIB
# Retrieval (ml_retrieval_candidates) holds far more per request than the 300 candidates it
# keeps: every co-viewer of the user's films, the user's neighbours' films. At 10x, 20,000
# requests in one query ran out of 2 GB; the per-request figure here (4,096 requests per
# chunk under 2 GiB) is a bound, not yet a measured optimum (docs/memory.md).
BYTES_PER_RETRIEVAL_REQUEST = 512 * KIB
# ml_training_features holds, per viewing whose features it computes, the viewer's earlier
# films, their co-viewing histories and the genre and film histories it joins, beside a
# share that follows the history tables rather than the batch. At 100x (15M viewings) one
# query of all of them ran out of 11 GiB. A batch of the latest viewings
# (benchmarks/measure_feature_memory.py, docs/memory.md) completed with 524,288 under
# 2 GiB, 131,072 under 1 GiB, 73,728 under 768 MiB and 32,768 under 512 MiB, and ran out
# with 1M under 2 GiB, 262,144 under 1 GiB and 87,381 under 768 MiB. Hence 4 KiB a viewing
# at 2 GiB and above, and fewer below, in proportion to the limit again.
BYTES_PER_FEATURE_ROW = 4 * KIB
FEATURE_BATCH_FULL_LIMIT = 2 * GIB


def parse_size(text: str, setting: str) -> int:
    """Bytes in a DuckDB-style size ("2GB", "1.5 GiB", "500MB"); `setting` names the
    source of `text` in the error a malformed size raises."""
    found = _SIZE.match(text)
    if found is None:
        raise SettingsError(
            f"{setting}: {text!r} is not a memory size (a number and a unit: 2GB, 1.5GiB, 512MB)"
        )
    size = int(float(found.group(1)) * _UNITS[found.group(2).upper()])
    if size <= 0:
        raise SettingsError(f"{setting}: {text!r} must be more than 0 bytes")
    return size


def default_memory_limit(machine_bytes: int) -> int:
    """DuckDB's memory_limit when none is set: a quarter of `machine_bytes` (the memory the
    process may use: the machine's, or its container's limit), in [0.5 GiB, 2 GiB]."""
    return min(MAX_DEFAULT_LIMIT, max(MIN_DEFAULT_LIMIT, machine_bytes // 4))


def as_duckdb_size(size: int) -> str:
    """`size` bytes as DuckDB reads a memory_limit (whole MiB, at least one)."""
    return f"{max(1, size // KIB**2)}MiB"


def pairs_per_chunk(memory_limit: int) -> int:
    """The (user, film) pairs scored per chunk under `memory_limit` bytes."""
    return max(1, memory_limit // BYTES_PER_PAIR)


def retrieval_requests_per_chunk(memory_limit: int) -> int:
    """The retrieval requests (user, moment) computed per chunk under `memory_limit` bytes."""
    return max(1, memory_limit // BYTES_PER_RETRIEVAL_REQUEST)


def feature_rows_per_batch(memory_limit: int) -> int:
    """The viewings whose training features one dbt query computes under `memory_limit`:
    `memory_limit / 4 KiB`, scaled down by `memory_limit / 2 GiB` below 2 GiB."""
    rows = memory_limit // BYTES_PER_FEATURE_ROW
    if memory_limit < FEATURE_BATCH_FULL_LIMIT:
        rows = rows * memory_limit // FEATURE_BATCH_FULL_LIMIT
    return max(1, rows)
