"""The file mechanics of write-audit-publish, on tiny DuckDB files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from movierec.errors import DamagedFileError, PublishingError, WarehouseBusyError
from movierec.files import sha256_of
from movierec.publishing import (
    RunRecord,
    check_published,
    clean_up,
    damage,
    exclusive,
    publish,
    published_version,
    read_run_records,
    rollback,
    version_dirs,
    write_run_record,
)
from movierec.settings import AuditSettings, Paths

REPO = Path(__file__).resolve().parents[3]


def _paths(tmp_path: Path) -> Paths:
    return Paths(
        project_dir=REPO, data_dir=tmp_path, warehouse_path=tmp_path / "warehouse" / "w.duckdb"
    )


def _build(paths: Paths, value: int) -> Paths:
    """A staged warehouse holding one number, as a run would leave it before publishing."""
    staged = paths.in_build()
    staged.warehouse_dir.mkdir(parents=True)
    with duckdb.connect(str(staged.warehouse_path)) as con:
        con.execute("create table t as select ? as v", [value])
    staged.report_path.write_text(f"report {value}")
    return staged


def _value(paths: Paths) -> int:
    with duckdb.connect(str(paths.warehouse_path), read_only=True) as con:
        return int(con.execute("select v from t").fetchall()[0][0])


def test_publish_keeps_the_newest_versions_and_rollback_steps_back(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    for value, run_id in enumerate(["r1", "r2", "r3", "r4"], start=1):
        publish(paths, _build(paths, value), run_id, keep=3, purge_older=False)
        assert _value(paths) == value
        assert paths.report_path.read_text() == f"report {value}"
    assert [v.name for v in version_dirs(paths)] == ["r2", "r3", "r4"]
    assert published_version(paths) == paths.versions_dir / "r4"
    assert not list(paths.builds_dir.iterdir())
    assert not paths.warehouse_path.with_name("w.duckdb.wal").exists()

    assert rollback(paths) == ("r4", "r3")
    assert _value(paths) == 3
    assert paths.report_path.read_text() == "report 3"
    assert [v.name for v in version_dirs(paths)] == ["r2", "r3"]

    publish(paths, _build(paths, 5), "r5", keep=3, purge_older=True)
    assert [v.name for v in version_dirs(paths)] == ["r5"]
    with pytest.raises(PublishingError, match="no version older than r5"):
        rollback(paths)


def test_clean_up_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    publish(paths, _build(paths, 1), "r1", keep=3, purge_older=False)
    _build(paths, 2)  # killed while building
    (paths.versions_dir / "r3").mkdir()  # killed after moving to versions, before the swap
    write_run_record(paths, RunRecord(run_id="r2", command="nightly", started_at=datetime.now()))

    removed = clean_up(paths)

    assert removed == ["unpublished build next", "unpublished version r3", "run r2 marked killed"]
    assert [v.name for v in version_dirs(paths)] == ["r1"]
    assert _value(paths) == 1
    (record,) = read_run_records(paths)
    assert record.outcome == "killed"
    assert clean_up(paths) == []


def _flip_byte(path: Path, at: int = 5000) -> None:
    """Damage a file in place (every hard link to it sees the change)."""
    with path.open("r+b") as handle:
        handle.seek(at)
        byte = handle.read(1)
        handle.seek(at)
        handle.write(bytes([byte[0] ^ 0x10]))


def test_each_version_records_its_checksum_and_damage_is_named(tmp_path: Path) -> None:
    """Publish records `sha256sum -c` text beside the file; a flipped byte is found, the
    published file is refused, and rollback will not publish a damaged version."""
    paths = _paths(tmp_path)
    for value, run_id in enumerate(["r1", "r2"], start=1):
        publish(paths, _build(paths, value), run_id, keep=3, purge_older=False)
    first, second = version_dirs(paths)
    recorded = (second / "w.duckdb.sha256").read_text()
    assert recorded == f"{sha256_of(paths.warehouse_path)}  w.duckdb\n"
    assert damage(paths, first) is None
    check_published(paths)

    _flip_byte(paths.warehouse_path)  # the published file is the newest version's
    problem = damage(paths, second)
    assert problem is not None
    assert problem.startswith(f"{second / 'w.duckdb'} is not the file audited at publish")
    with pytest.raises(DamagedFileError, match=r"published warehouse is damaged.*rollback"):
        check_published(paths)

    _flip_byte(first / "w.duckdb")
    with pytest.raises(DamagedFileError, match="refusing to publish version r1"):
        rollback(paths)
    assert published_version(paths) == second


def test_a_published_copy_must_have_a_retained_versions_bytes(tmp_path: Path) -> None:
    """A copy of the version (restored from a backup) passes; other bytes do not, and
    rollback publishes the newest version again."""
    paths = _paths(tmp_path)
    publish(paths, _build(paths, 1), "r1", keep=3, purge_older=False)
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(paths.warehouse_path.read_bytes())
    copy.replace(paths.warehouse_path)
    assert published_version(paths) is None
    check_published(paths)
    _flip_byte(paths.warehouse_path)
    with pytest.raises(DamagedFileError, match="has the bytes of no retained version"):
        check_published(paths)
    assert rollback(paths) == ("a file that was no retained version", "r1")
    assert published_version(paths) == paths.versions_dir / "r1"
    check_published(paths)


def test_one_run_at_a_time(tmp_path: Path) -> None:
    paths = _paths(tmp_path)
    with (
        exclusive(paths, "nightly"),
        pytest.raises(WarehouseBusyError, match=r"holds .*\(nightly, pid \d+"),
        exclusive(paths, "build"),
    ):
        pass
    with exclusive(paths, "build"):  # released when the holder's block ends
        pass


def test_audit_bounds_must_bracket_one() -> None:
    with pytest.raises(ValueError, match="min_row_ratio <= 1 <= max_row_ratio"):
        AuditSettings(min_row_ratio=1.2)
