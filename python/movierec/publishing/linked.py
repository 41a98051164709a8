"""Retained versions of a warehouse that is a folder, published by a symbolic link.

Spark's warehouse (docs/spark.md) is a folder: a metastore and the tables' files. The
metastore records each table's absolute location, so a version cannot be built in one
place and moved to another as a DuckDB file is. Each run builds its version where it
stays, `versions/<run_id>/`, and publishing replaces a relative symbolic link beside them
(Spark's: `data/spark/published`) by one `rename(2)`: a reader that opens the link sees
the old version or the new one, never a mix, and no run writes the version readers have
open.

A version holds `AUDITED` once its audit passed. The published version is the newest
audited one: a run killed before its swap leaves a version that the next run (under the
lock) removes, and a rollback drops the version it replaces.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from movierec.errors import PublishingError
from movierec.files import fsync, write_text_atomically

AUDITED = "AUDITED"


@dataclass(frozen=True)
class LinkedVersions:
    """The link readers open, `link`, and the versions beside it (`versions/`), one of
    which it points at."""

    link: Path

    @property
    def root(self) -> Path:
        return self.link.parent

    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    def version(self, run_id: str) -> Path:
        """Where run `run_id` builds its version."""
        return self.versions_dir / run_id

    def published(self) -> Path | None:
        """The published version folder, or None before the first publish."""
        if not self.link.is_symlink():
            return None
        target = self.versions_dir / self.link.readlink().name
        return target if target.is_dir() else None

    def retained(self) -> list[Path]:
        """Audited versions, oldest first."""
        if not self.versions_dir.exists():
            return []
        return sorted(p for p in self.versions_dir.iterdir() if (p / AUDITED).is_file())

    def clean_up(self) -> list[str]:
        """Remove what a run that died left (call under the lock): a version never audited,
        an audited one newer than the published (killed before the swap), a half-made
        link. Says what it removed."""
        removed = []
        swap = self._swap_path()
        if swap.is_symlink():
            swap.unlink()
            removed.append(f"half-made link {swap.name}")
        published = self.published()
        if self.versions_dir.exists():
            for version in sorted(self.versions_dir.iterdir()):
                unaudited = not (version / AUDITED).is_file()
                unpublished = published is not None and version.name > published.name
                if unaudited or unpublished:
                    shutil.rmtree(version)
                    removed.append(f"unpublished version {version.name}")
        return removed

    def publish(self, version: Path, audit_summary: str, keep: int) -> None:
        """Mark the audited `version` (`audit_summary` goes in its AUDITED file), point the
        link at it, and keep the newest `keep` versions."""
        if keep < 1:
            raise PublishingError(f"keep must be at least 1, got {keep}")
        self._check_link()
        write_text_atomically(version / AUDITED, audit_summary)
        self._swap_in(version)
        for old in self.retained()[:-keep]:
            shutil.rmtree(old)

    def rollback(self) -> tuple[str, str]:
        """Publish the audited version before the published one; drop the published one.
        Returns (dropped, restored) version names."""
        current = self.published()
        older = [v for v in self.retained() if current is None or v.name < current.name]
        if not older:
            raise PublishingError(
                f"no audited version older than {current.name if current else 'none'} "
                f"is retained under {self.versions_dir}"
            )
        self._swap_in(older[-1])
        if current is None:
            return "no published version", older[-1].name
        shutil.rmtree(current)
        return current.name, older[-1].name

    def _swap_path(self) -> Path:
        return self.root / f".{self.link.name}.swap"

    def _check_link(self) -> None:
        if self.link.exists() and not self.link.is_symlink():
            raise PublishingError(f"{self.link} is not a link: move it away to publish")

    def _swap_in(self, version: Path) -> None:
        self._check_link()
        swap = self._swap_path()
        swap.unlink(missing_ok=True)
        swap.symlink_to(Path(self.versions_dir.name) / version.name)
        swap.replace(self.link)
        fsync(self.root)
