"""The landing manifest: what every landed file was when it landed, checked before use.

Landing (and erasure, the one thing allowed to rewrite a landed file) records each file's
sha256, size and row count in `raw/_manifest/<batch_id>.json`, one JSON file per batch,
written atomically after the batch's Parquet files. Every run that reads landed files
verifies them first: a file whose bytes changed since (bit rot, a hand edit), a file that
appeared without going through landing, or a recorded file that is gone stops the run with
a Problem naming the file and what differs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq

from movierec.errors import Problem, RawContractError
from movierec.files import sha256_of, write_text_atomically

MANIFEST_DIR = "_manifest"


@dataclass(frozen=True)
class LandedFile:
    """One landed file as the manifest records it."""

    entity: str
    sha256: str
    size_bytes: int
    rows: int
    recorded_at: str


def manifest_path(raw_dir: Path, batch_id: str) -> Path:
    return raw_dir / MANIFEST_DIR / f"{batch_id}.json"


def read_manifest(raw_dir: Path, batch_id: str) -> dict[str, LandedFile]:
    """The batch's recorded files by entity (empty when the batch has no manifest)."""
    path = manifest_path(raw_dir, batch_id)
    if not path.is_file():
        return {}
    try:
        files: dict[str, dict[str, object]] = json.loads(path.read_text())["files"]
        return {entity: LandedFile(entity=entity, **entry) for entity, entry in files.items()}  # type: ignore[arg-type]
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
        problem = Problem(str(path), None, f"landing manifest unreadable (damaged?): {exc!r}")
        raise RawContractError([problem]) from exc


def record_landed(raw_dir: Path, files: Mapping[str, Path], now: datetime) -> None:
    """Record `files` (entity -> `raw/<entity>/<batch_id>.parquet`) in their batches'
    manifests, replacing what was recorded for those entities."""
    by_batch: dict[str, dict[str, Path]] = {}
    for entity, path in files.items():
        by_batch.setdefault(path.stem, {})[entity] = path
    for batch_id, batch_files in by_batch.items():
        entries = {e: _as_json(f) for e, f in read_manifest(raw_dir, batch_id).items()}
        for entity, path in batch_files.items():
            entries[entity] = {
                "sha256": sha256_of(path),
                "size_bytes": path.stat().st_size,
                "rows": pq.ParquetFile(path).metadata.num_rows,
                "recorded_at": now.isoformat(),
            }
        payload = {"batch_id": batch_id, "files": dict(sorted(entries.items()))}
        write_text_atomically(manifest_path(raw_dir, batch_id), json.dumps(payload, indent=1))


def _as_json(landed: LandedFile) -> dict[str, object]:
    return {
        "sha256": landed.sha256,
        "size_bytes": landed.size_bytes,
        "rows": landed.rows,
        "recorded_at": landed.recorded_at,
    }


def verify_landed(raw_dir: Path, entities: Sequence[str]) -> dict[Path, Problem]:
    """Every landed file of `entities` that is not what its manifest recorded, and every
    recorded file that is missing, with what differs."""
    problems: dict[Path, Problem] = {}
    batches: set[str] = set()
    for entity in entities:
        for path in sorted((raw_dir / entity).glob("*.parquet")):
            batches.add(path.stem)
            recorded = read_manifest(raw_dir, path.stem).get(entity)
            problem = _differs(path, recorded)
            if problem is not None:
                problems[path] = Problem(str(path), None, problem)
    if (raw_dir / MANIFEST_DIR).is_dir():
        for manifest in sorted((raw_dir / MANIFEST_DIR).glob("*.json")):
            for entity in read_manifest(raw_dir, manifest.stem):
                path = raw_dir / entity / f"{manifest.stem}.parquet"
                if entity in entities and not path.exists():
                    problems[path] = Problem(
                        str(path), None, f"recorded in {manifest} but missing (deleted?)"
                    )
    return problems


def _differs(path: Path, recorded: LandedFile | None) -> str | None:
    if recorded is None:
        return (
            "not in the landing manifest: it did not arrive through `movierec simulate` "
            "or `movierec ingest` (copied in by hand, or a landing that did not finish)"
        )
    size = path.stat().st_size
    if size != recorded.size_bytes:
        return (
            f"changed after landing: {size:,} bytes, the manifest recorded "
            f"{recorded.size_bytes:,} at {recorded.recorded_at}"
        )
    actual = sha256_of(path)
    if actual != recorded.sha256:
        return (
            f"changed after landing (bit rot or an edit): sha256 {actual[:16]}..., the "
            f"manifest recorded {recorded.sha256[:16]}... at {recorded.recorded_at}"
        )
    return None


def record_unlisted_files(raw_dir: Path, entities: Sequence[str], now: datetime) -> list[Path]:
    """Record the landed files of `entities` that no manifest lists, as they are now."""
    unlisted = {
        path: entity
        for entity in entities
        for path in sorted((raw_dir / entity).glob("*.parquet"))
        if entity not in read_manifest(raw_dir, path.stem)
    }
    for path, entity in unlisted.items():
        record_landed(raw_dir, {entity: path}, now)
    return list(unlisted)
