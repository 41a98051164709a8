"""Disk space: refuse a run before it starts when its filesystem cannot hold it, and say
so in one line when it runs out anyway.

A run writes its build (a whole new warehouse) beside the published file, and DuckDB
spills to `<build>.tmp` beside it, so what it needs is about the size of the warehouse it
replaces, times `HEADROOM`; before the first publish, the landed Parquet bytes times
`WAREHOUSE_PER_LANDED_BYTE` stand in for it. Both factors are measured
(docs/publishing.md#disk-space).
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from movierec.errors import DiskFullError

# the peak disk use of a nightly over the size of the warehouse it publishes
HEADROOM = 2.0
# a first warehouse over the landed Parquet it is built from
WAREHOUSE_PER_LANDED_BYTE = 26
# dbt's target/ and logs, the model files, the report
FIXED_BYTES = 50 * 2**20
_MB = 2**20


@dataclass(frozen=True)
class SpaceNeed:
    """What a run needs on the filesystem holding `directory`, and why."""

    directory: Path
    needed: int
    basis: str


def space_need(directory: Path, published: Path, landed_bytes: int) -> SpaceNeed:
    """The space a run building beside `published` needs (see the module doc)."""
    if published.is_file():
        size = published.stat().st_size
        basis = f"{HEADROOM:g} x the {size / _MB:,.0f} MB published warehouse"
    else:
        size = landed_bytes * WAREHOUSE_PER_LANDED_BYTE
        basis = (
            f"{HEADROOM:g} x {WAREHOUSE_PER_LANDED_BYTE} x the {landed_bytes / _MB:,.1f} MB "
            "of landed Parquet"
        )
    needed = int(size * HEADROOM) + FIXED_BYTES
    return SpaceNeed(directory, needed, f"{basis} + {FIXED_BYTES // _MB} MB")


def mount_point(path: Path) -> Path:
    """The mount point of the filesystem holding `path` (or its nearest existing parent)."""
    current = path.resolve()
    while not current.exists():
        current = current.parent
    while not os.path.ismount(current):
        current = current.parent
    return current


def free_bytes(path: Path) -> int:
    existing = path
    while not existing.exists():
        existing = existing.parent
    return shutil.disk_usage(existing).free


def _describe(need: SpaceNeed) -> str:
    free = free_bytes(need.directory)
    return (
        f"the filesystem at {mount_point(need.directory)} holding {need.directory} has "
        f"{free / _MB:,.0f} MB free; a run needs about {need.needed / _MB:,.0f} MB "
        f"({need.basis})"
    )


def check_space(need: SpaceNeed) -> None:
    """DiskFullError, before anything is written, when the free space is short."""
    if free_bytes(need.directory) < need.needed:
        raise DiskFullError(f"not enough disk space to start: {_describe(need)}")


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is a write that found no space left."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DiskFullError):
            return True
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if "No space left on device" in str(seen):  # DuckDB's IOException, dbt's output
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def disk_full(need: SpaceNeed) -> DiskFullError:
    """The one-line error for a run that ran out of space (its build already removed)."""
    return DiskFullError(f"disk full, the run stopped: {_describe(need)}")
