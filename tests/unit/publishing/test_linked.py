"""Versions of a folder warehouse published by a link (Spark's), on plain folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec.errors import PublishingError
from movierec.publishing import LinkedVersions


def _build(versions: LinkedVersions, run_id: str) -> Path:
    """A version as a run leaves it before its audit: a folder with one table file."""
    version = versions.version(run_id)
    (version / "tables").mkdir(parents=True)
    (version / "tables" / "t.parquet").write_text(run_id)
    return version


def _read(versions: LinkedVersions) -> str:
    """What a reader opening the link sees."""
    return (versions.link / "tables" / "t.parquet").read_text()


def test_publish_repoints_the_link_keeps_the_newest_and_rollback_steps_back(
    tmp_path: Path,
) -> None:
    versions = LinkedVersions(tmp_path / "spark" / "published")
    assert versions.published() is None
    for run_id in ["p1", "p2", "p3", "p4"]:
        versions.publish(_build(versions, run_id), f"audited {run_id}", keep=3)
        assert _read(versions) == run_id
    assert [v.name for v in versions.retained()] == ["p2", "p3", "p4"]
    assert versions.published() == versions.version("p4")
    # relative, so the installation's folder can move as a whole
    assert versions.link.readlink() == Path("versions/p4")
    assert (versions.version("p4") / "AUDITED").read_text() == "audited p4"

    assert versions.rollback() == ("p4", "p3")
    assert _read(versions) == "p3"
    assert not versions.version("p4").exists()
    assert versions.rollback() == ("p3", "p2")
    with pytest.raises(PublishingError, match="no audited version older than p2"):
        versions.rollback()
    assert _read(versions) == "p2"


def test_clean_up_removes_what_a_dead_run_left_and_keeps_the_published(tmp_path: Path) -> None:
    """A version never audited (killed while building), an audited one newer than the
    published (killed before the swap) and a half-made link go; the published version
    and older retained ones stay."""
    versions = LinkedVersions(tmp_path / "published")
    versions.publish(_build(versions, "p1"), "", keep=3)
    versions.publish(_build(versions, "p2"), "", keep=3)
    _build(versions, "p3")
    (_build(versions, "p4") / "AUDITED").write_text("")
    (tmp_path / ".published.swap").symlink_to("versions/p4")

    removed = versions.clean_up()

    assert removed == [
        "half-made link .published.swap",
        "unpublished version p3",
        "unpublished version p4",
    ]
    assert [v.name for v in versions.retained()] == ["p1", "p2"]
    assert _read(versions) == "p2"
    assert versions.clean_up() == []


def test_before_any_publish_only_unaudited_versions_are_removed(tmp_path: Path) -> None:
    versions = LinkedVersions(tmp_path / "published")
    _build(versions, "p1")
    assert versions.clean_up() == ["unpublished version p1"]
    assert not versions.versions_dir.joinpath("p1").exists()
    with pytest.raises(PublishingError, match="no audited version older than none"):
        versions.rollback()


def test_a_folder_where_the_link_belongs_is_never_replaced(tmp_path: Path) -> None:
    versions = LinkedVersions(tmp_path / "published")
    (versions.link / "metastore_db").mkdir(parents=True)
    with pytest.raises(PublishingError, match="is not a link"):
        versions.publish(_build(versions, "p1"), "", keep=3)
    assert (versions.link / "metastore_db").is_dir()
    assert versions.retained() == []
