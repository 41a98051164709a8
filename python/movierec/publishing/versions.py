"""Retained versions and the swap: publishing a built warehouse, rolling back, and
cleaning up after a killed run.

Readers (BI tools, notebooks, analysts) open the published file read-only. No movierec
process ever writes it: a run builds `builds/next/<name>.duckdb`, audits it, moves the folder to
`versions/<run_id>/`, and replaces the published path by a hard link to it with one
`rename(2)`. A reader sees the old file or the new one, never a mix, and never waits;
readers of the old file keep reading it until they reconnect.

The published file is always the newest retained version. A run killed at any moment
leaves it untouched; the next run (under the lock) removes what the dead one left.

Each version records the audited file's sha256 beside it (`<name>.duckdb.sha256`, the
format `sha256sum -c` reads) before it is published; `damage` compares a version with it,
so a run never builds on, and a rollback never publishes, a file that changed since.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from movierec.errors import DamagedFileError, PublishingError
from movierec.files import fsync, sha256_of, write_text_atomically
from movierec.publishing.runlog import mark_dead_runs
from movierec.settings import Paths


def version_dirs(paths: Paths) -> list[Path]:
    """Retained versions, oldest first."""
    if not paths.versions_dir.exists():
        return []
    return sorted(p for p in paths.versions_dir.iterdir() if p.is_dir())


def published_version(paths: Paths) -> Path | None:
    """The version folder whose file is (the same inode as) the published warehouse."""
    if not paths.warehouse_path.exists():
        return None
    for version in version_dirs(paths):
        candidate = version / paths.warehouse_path.name
        if candidate.exists() and candidate.samefile(paths.warehouse_path):
            return version
    return None


def _checksum_path(version: Path, paths: Paths) -> Path:
    return version / f"{paths.warehouse_path.name}.sha256"


def record_checksum(paths: Paths, version: Path) -> None:
    """Record the version's warehouse file's sha256 beside it."""
    name = paths.warehouse_path.name
    text = f"{sha256_of(version / name)}  {name}\n"
    write_text_atomically(_checksum_path(version, paths), text)


def _recorded(paths: Paths, version: Path) -> str | None:
    recorded_at = _checksum_path(version, paths)
    return recorded_at.read_text().split()[0] if recorded_at.is_file() else None


def damage(paths: Paths, version: Path) -> str | None:
    """What is wrong with a retained version's file, or None when it is the audited one
    (or, written before checksums were recorded, cannot be checked)."""
    recorded = _recorded(paths, version)
    if recorded is None:
        return None
    file = version / paths.warehouse_path.name
    if not file.is_file():
        return f"{file} is missing"
    actual = sha256_of(file)
    if actual == recorded:
        return None
    return (
        f"{file} is not the file audited at publish (sha256 {actual[:16]}..., recorded "
        f"{recorded[:16]}... in {_checksum_path(version, paths).name})"
    )


def check_published(paths: Paths) -> None:
    """DamagedFileError when the published warehouse changed since its audit: its version
    is damaged, or, when it is no hard link to a version (copied, e.g. restored from a
    backup), its bytes are those of no retained version."""
    current = published_version(paths)
    if current is not None:
        problem = damage(paths, current)
    elif paths.warehouse_path.is_file() and (versions := version_dirs(paths)):
        recorded = {_recorded(paths, v) for v in versions}
        problem = (
            None
            if None in recorded or sha256_of(paths.warehouse_path) in recorded
            else f"{paths.warehouse_path} has the bytes of no retained version"
        )
    else:
        problem = None
    if problem is not None:
        raise DamagedFileError(
            f"the published warehouse is damaged: {problem}; `movierec rollback` publishes "
            "the newest intact retained version again"
        )


def clean_up(paths: Paths) -> list[str]:
    """Remove what a killed run left behind; call under the lock. Says what it removed."""
    removed: list[str] = []
    if paths.builds_dir.exists():
        for leftover in sorted(paths.builds_dir.iterdir()):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
            removed.append(f"unpublished build {leftover.name}")
    current = published_version(paths)
    for version in version_dirs(paths):
        if current is not None and version.name > current.name:
            # moved to versions/ but killed before the swap: never published
            shutil.rmtree(version)
            removed.append(f"unpublished version {version.name}")
    for stray in (_swap_path(paths), _swap_path(paths, "report.html")):
        if stray.exists():
            stray.unlink()
            removed.append(f"half-swapped {stray.name}")
    wal = paths.warehouse_path.with_name(paths.warehouse_path.name + ".wal")
    if wal.exists():
        wal.unlink()
        removed.append(f"stale {wal.name} beside the published file")
    current = published_version(paths)
    removed += mark_dead_runs(paths, current.name if current else None)
    return removed


def _swap_path(paths: Paths, name: str | None = None) -> Path:
    return paths.warehouse_dir / f".{name or paths.warehouse_path.name}.swap"


def _swap_in(paths: Paths, version: Path) -> None:
    """Point the published path (and the report beside it) at `version`, atomically each."""
    swap = _swap_path(paths)
    swap.unlink(missing_ok=True)
    os.link(version / paths.warehouse_path.name, swap)
    swap.replace(paths.warehouse_path)
    report = version / paths.report_path.name
    if report.exists():
        report_swap = _swap_path(paths, paths.report_path.name)
        shutil.copyfile(report, report_swap)
        fsync(report_swap)
        report_swap.replace(paths.report_path)
    fsync(paths.warehouse_dir)


def publish(paths: Paths, build: Paths, run_id: str, keep: int, *, purge_older: bool) -> Path:
    """Make the audited built warehouse the published one; keep the newest `keep` versions
    (only the new one when `purge_older`, e.g. after an erasure). Returns the version folder."""
    if keep < 1:
        raise PublishingError(f"keep must be at least 1, got {keep}")
    with duckdb.connect(str(build.warehouse_path)) as con:
        con.execute("checkpoint")
    wal = build.warehouse_path.with_name(build.warehouse_path.name + ".wal")
    if wal.exists():
        raise PublishingError(f"{wal} survived a checkpoint; refusing to publish")
    fsync(build.warehouse_path)
    paths.versions_dir.mkdir(parents=True, exist_ok=True)
    version = paths.versions_dir / run_id
    record_checksum(paths, build.warehouse_dir)
    build.warehouse_dir.replace(version)
    fsync(paths.versions_dir)
    _swap_in(paths, version)
    retained = version_dirs(paths)
    for old in retained[: -1 if purge_older else -keep]:
        shutil.rmtree(old)
    return version


def rollback(paths: Paths) -> tuple[str, str]:
    """Publish the version before the current one; drop the current. Returns (from, to).

    When the published file is no retained version (replaced by hand), the newest retained
    version is published again instead, and nothing is dropped."""
    current = published_version(paths)
    versions = version_dirs(paths)
    if current is None and not versions:
        raise PublishingError(
            f"{paths.warehouse_path} is no retained version: nothing to roll back"
        )
    older = [v for v in versions if current is None or v.name < current.name]
    if not older:
        raise PublishingError(f"no version older than {current and current.name} is retained")
    problem = damage(paths, older[-1])
    if problem is not None:
        raise DamagedFileError(f"refusing to publish version {older[-1].name}: {problem}")
    _swap_in(paths, older[-1])
    if current is None:
        return "a file that was no retained version", older[-1].name
    shutil.rmtree(current)
    return current.name, older[-1].name
