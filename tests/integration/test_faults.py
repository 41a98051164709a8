"""Faults an operator meets: landed bytes that rot, files that skip landing, damaged
warehouse versions, and a disk that fills during the nightly. Each is found, named in
the message, and leaves the published warehouse as it was."""

from __future__ import annotations

import errno
import importlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from movierec import flows
from movierec.errors import DiskFullError
from movierec.land import landed_files
from movierec.publishing import read_run_records, version_dirs
from movierec.settings import NightlySettings, Paths, PublishSettings, RecommendSettings, load
from tests.integration.harness import REPO, clone, digest, own_copy, paths_for, run_cli

pytestmark = pytest.mark.integration


def _flip_bit(path: Path, at: float = 0.5) -> None:
    with path.open("r+b") as handle:
        handle.seek(int(path.stat().st_size * at))
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0x01]))


def test_a_flipped_bit_in_a_landed_file_stops_the_run_before_anything_is_built(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    paths = clone(installation, tmp_path)
    target = landed_files(paths.raw_dir, "interactions")[0]
    own_copy(target)
    _flip_bit(target)
    before = digest(paths.warehouse_path)
    failed = run_cli(paths, "nightly")
    assert failed.returncode == 1
    message = " ".join(failed.stderr.split())
    assert f"{target}: changed after landing (bit rot or an edit): sha256 " in message
    assert "dbt build" not in failed.stdout  # found before anything was built
    assert digest(paths.warehouse_path) == before
    validated = run_cli(paths, "validate")
    assert validated.returncode == 1
    assert "changed after landing" in validated.stderr


def test_a_file_added_without_landing_is_refused(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    paths = clone(installation, tmp_path)
    landed = landed_files(paths.raw_dir, "users")[0]
    added = landed.with_name("29990101T000000000000Z.parquet")
    added.write_bytes(landed.read_bytes())
    failed = run_cli(paths, "nightly")
    assert failed.returncode == 1
    assert f"{added}: not in the landing manifest" in " ".join(failed.stderr.split())
    vouched = run_cli(paths, "validate", "--record-unlisted")
    assert vouched.returncode == 0, vouched.stderr
    assert "2 retained warehouse versions match their recorded checksums" in vouched.stdout


def test_damaged_warehouse_versions_are_named_and_never_published(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    """A flipped bit in the published file stops every run and `validate`; rollback
    publishes the older version; a damaged older version is refused by rollback."""
    paths = clone(installation, tmp_path)
    first, second = version_dirs(paths)
    published = second / paths.warehouse_path.name
    own_copy(published)
    os.link(published, tmp_path / "link")
    (tmp_path / "link").replace(paths.warehouse_path)  # published again, now a private inode
    _flip_bit(published, at=0.9)
    refused = run_cli(paths, "nightly")
    assert refused.returncode == 1
    assert "the published warehouse is damaged" in refused.stderr
    assert "movierec rollback" in refused.stderr
    assert "damaged" in run_cli(paths, "validate").stderr

    older = first / paths.warehouse_path.name
    own_copy(older)
    _flip_bit(older, at=0.9)
    rolled = run_cli(paths, "rollback")
    assert rolled.returncode == 1
    assert f"refusing to publish version {first.name}" in rolled.stderr
    assert paths.warehouse_path.samefile(published)


def _can_mount_tmpfs(where: Path) -> bool:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode == 0:
        subprocess.run(["umount", str(where)], check=True)
    return done.returncode == 0


def _fill(folder: Path, builds: Path) -> None:
    """Once a run's build folder appears in `builds`, write zeros into `folder` until the
    filesystem is full."""
    while not (builds.is_dir() and any(builds.iterdir())):
        time.sleep(0.05)
    try:  # the disk may already be full when the filler opens
        with (folder / "filler").open("wb") as handle:
            while True:
                handle.write(b"\0" * 2**20)
                handle.flush()
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise


def test_a_disk_that_fills_during_the_nightly_ends_in_one_line(
    installation: tuple[Paths, float], tmp_path: Path
) -> None:
    """The data folder on a small tmpfs; once the run's build folder appears, another
    process fills the disk. The run ends with one line naming the disk, the folder and
    the space a run needs, and publishes nothing."""
    mount = tmp_path / "small"
    if not _can_mount_tmpfs(mount):
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN); see the injected-ENOSPC test")
    source, _ = installation
    size = sum(f.stat().st_size for f in source.data_dir.rglob("*") if f.is_file())
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={3 * size // 2**20 + 200}m", "tmpfs", str(mount)],
        check=True,
    )
    try:
        shutil.copytree(source.data_dir, mount / "data", ignore=shutil.ignore_patterns("*.lock"))
        paths = paths_for(mount / "data")
        newest = version_dirs(paths)[-1] / paths.warehouse_path.name
        os.link(newest, mount / "link")  # published is a hard link to its version again
        (mount / "link").replace(paths.warehouse_path)
        before = digest(paths.warehouse_path)
        filler = threading.Thread(target=_fill, args=(mount, paths.builds_dir), daemon=True)
        filler.start()
        failed = run_cli(paths, "nightly")
        filler.join()
        assert failed.returncode == 1
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 2, failed.stderr
        assert lines[0].startswith(f"disk full, the run stopped: the filesystem at {mount} ")
        assert f"holding {paths.warehouse_dir} has " in lines[0]
        assert "a run needs about " in lines[0]
        assert lines[1] == f"nothing published: {paths.warehouse_path} is unchanged"
        assert len(failed.stdout.splitlines()) < 400  # dbt's own output, not a flood
        assert digest(paths.warehouse_path) == before
        assert list(paths.builds_dir.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_no_space_injected_ends_in_one_line(
    installation: tuple[Paths, float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC injected at the nightly's first write into its build (where no tmpfs can be
    mounted, this stands in for the test above): the same one line, the build removed,
    the run logged as failed, the published file unchanged."""
    paths = clone(installation, tmp_path)
    before = digest(paths.warehouse_path)

    def no_space(*args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device", str(paths.builds_dir))

    monkeypatch.setattr(importlib.import_module("movierec.warehouse.dbt"), "run_dbt", no_space)
    settings = load({"MOVIEREC_PROJECT_DIR": str(REPO), **paths.dbt_env()})
    with pytest.raises(DiskFullError) as stopped:
        flows.nightly(
            settings.paths,
            NightlySettings(),
            settings.train_settings(),
            RecommendSettings(),
            PublishSettings(),
            progress=lambda _: None,
        )
    assert str(stopped.value).startswith("disk full, the run stopped: the filesystem at ")
    assert "\n" not in str(stopped.value)
    assert digest(paths.warehouse_path) == before
    assert list(paths.builds_dir.iterdir()) == []
    assert read_run_records(paths)[-1].outcome == "failed"


@pytest.mark.parametrize(
    ("command", "inside"),
    [
        ("recommend", ": "),  # a Python step's DuckDB
        ("build", " in `dbt build"),  # dbt's, under the same limit (profiles.yml)
    ],
)
def test_out_of_memory_ends_in_one_line_naming_the_step_and_the_setting(
    installation: tuple[Paths, float], tmp_path: Path, command: str, inside: str
) -> None:
    paths = clone(installation, tmp_path)
    before = digest(paths.warehouse_path)
    starved = subprocess.run(
        [sys.executable, "-m", "movierec", command],
        env={
            **os.environ,
            "MOVIEREC_PROJECT_DIR": str(REPO),
            "MOVIEREC_DUCKDB_MEMORY_LIMIT": "2MB",
            **paths.dbt_env(),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert starved.returncode == 1, starved.stderr
    first, second = starved.stderr.strip().splitlines()
    assert first.startswith(f"out of memory, the run stopped after step 'check + stage'{inside}")
    assert "DuckDB's memory_limit is 2MB (MOVIEREC_DUCKDB_MEMORY_LIMIT, for movierec's " in first
    assert second == f"nothing published: {paths.warehouse_path} is unchanged"
    assert digest(paths.warehouse_path) == before
