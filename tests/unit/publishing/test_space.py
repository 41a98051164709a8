"""Disk space: the estimate a run is refused on, and recognising a full disk."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import duckdb
import pytest

from movierec.errors import DiskFullError
from movierec.publishing import check_space, disk_full, is_disk_full, space_need
from movierec.publishing.space import FIXED_BYTES, mount_point

MB = 2**20


def test_the_need_follows_the_published_file_or_else_the_landed_bytes(tmp_path: Path) -> None:
    published = tmp_path / "w.duckdb"
    first = space_need(tmp_path, published, landed_bytes=4 * MB)
    assert first.needed == 2 * 26 * 4 * MB + FIXED_BYTES
    assert first.basis == "2 x 26 x the 4.0 MB of landed Parquet + 50 MB"
    published.write_bytes(b"\0" * (3 * MB))
    later = space_need(tmp_path, published, landed_bytes=4 * MB)
    assert later.needed == 2 * 3 * MB + FIXED_BYTES
    assert later.basis == "2 x the 3 MB published warehouse + 50 MB"


def test_a_run_is_refused_early_with_the_numbers(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    need = space_need(tmp_path / "warehouse", tmp_path / "none.duckdb", landed_bytes=free)
    with pytest.raises(DiskFullError) as refused:
        check_space(need)
    message = str(refused.value)
    assert message.startswith("not enough disk space to start: the filesystem at ")
    assert f"at {mount_point(tmp_path)} holding {tmp_path / 'warehouse'} has " in message
    assert f"a run needs about {need.needed / MB:,.0f} MB" in message
    assert "\n" not in message
    check_space(space_need(tmp_path, tmp_path / "none.duckdb", landed_bytes=1))  # room enough
    assert "disk full, the run stopped: the filesystem" in str(disk_full(need))


def test_a_full_disk_is_recognised_however_it_surfaces() -> None:
    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(
        duckdb.IOException('IO Error: Could not write file "x.duckdb": No space left on device')
    )
    chained = ValueError("a step failed")
    chained.__cause__ = OSError(errno.ENOSPC, "write")
    assert is_disk_full(chained)
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not is_disk_full(duckdb.IOException("IO Error: Could not read file"))
