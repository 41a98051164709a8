"""Right to erasure: forget users in the landed files, then in every published warehouse.

`request_erasure` rewrites each landed Parquet file that holds one of the users without
their rows (landed files are immutable except for this, and the landing manifest records
the new file) and records the request as pending. The next publish builds a freshly
written warehouse without them, retrains, and deletes every older version;
`complete_erasures` then replaces the pending record (which names the users) by a log
entry that holds only counts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from movierec.errors import RawContractError, SettingsError
from movierec.land.landing import landed_files, write_atomically
from movierec.land.manifest import record_landed, verify_landed
from movierec.settings import ENTITIES, Paths


@dataclass(frozen=True)
class ErasureRequest:
    request_id: str
    requested_at: datetime
    user_ids: tuple[int, ...]
    landed_rows_removed: int


def _pending_dir(paths: Paths) -> Path:
    return paths.erasure_dir / "pending"


def _log_path(paths: Paths) -> Path:
    return paths.erasure_dir / "log.jsonl"


def erase_from_landed(paths: Paths, user_ids: Iterable[int], now: datetime) -> dict[Path, int]:
    """Rewrite every landed file (and the held-out interactions) holding rows of `user_ids`
    without them, recording the new landed files in the manifest. Rows removed per file."""
    changed = verify_landed(paths.raw_dir, ENTITIES)
    if changed:  # rewriting a damaged file would record the damage as landed
        raise RawContractError(changed.values())
    ids = pa.array(sorted(set(user_ids)), pa.int64())
    removed: dict[Path, int] = {}
    held_out = [paths.holdout_path] if paths.holdout_path.is_file() else []
    files = {path: entity for entity in ENTITIES for path in landed_files(paths.raw_dir, entity)}
    for path in [*files, *held_out]:
        table = pq.read_table(path)
        if "user_id" not in table.column_names:
            continue
        hit = pc.is_in(table.column("user_id"), value_set=ids)
        count = pc.sum(hit).as_py() or 0
        if count:
            write_atomically(table.filter(pc.invert(hit)), path)
            if path in files:
                record_landed(paths.raw_dir, {files[path]: path}, now)
            removed[path] = count
    return removed


def request_erasure(paths: Paths, user_ids: Sequence[int], now: datetime) -> ErasureRequest:
    """Erase the users from the landed files and record the request as pending."""
    if not user_ids:
        raise SettingsError("name at least one user id to forget")
    removed = erase_from_landed(paths, user_ids, now)
    request = ErasureRequest(
        request_id=now.strftime("x%Y%m%dT%H%M%S%fZ"),
        requested_at=now,
        user_ids=tuple(sorted(set(user_ids))),
        landed_rows_removed=sum(removed.values()),
    )
    target = _pending_dir(paths) / f"{request.request_id}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(
        json.dumps(
            {
                "request_id": request.request_id,
                "requested_at": request.requested_at.isoformat(),
                "user_ids": list(request.user_ids),
                "landed_rows_removed": request.landed_rows_removed,
            }
        )
    )
    tmp.replace(target)
    return request


def pending_erasures(paths: Paths) -> list[ErasureRequest]:
    requests = []
    for path in sorted(_pending_dir(paths).glob("*.json")):
        payload = json.loads(path.read_text())
        requests.append(
            ErasureRequest(
                request_id=payload["request_id"],
                requested_at=datetime.fromisoformat(payload["requested_at"]),
                user_ids=tuple(payload["user_ids"]),
                landed_rows_removed=payload["landed_rows_removed"],
            )
        )
    return requests


def erasure_log(paths: Paths) -> list[dict[str, object]]:
    """Applied requests (counts only), oldest first."""
    if not _log_path(paths).exists():
        return []
    entries = []
    for line in _log_path(paths).read_text().splitlines():
        entry = json.loads(line)
        for key in ("requested_at", "applied_at"):
            entry[key] = datetime.fromisoformat(entry[key])
        entries.append(entry)
    return entries


def log_entries(
    requests: Sequence[ErasureRequest], applied_at: datetime, run_id: str
) -> list[dict[str, object]]:
    """What the erasure log keeps of applied requests: no user id, only counts."""
    return [
        {
            "request_id": r.request_id,
            "requested_at": r.requested_at,
            "users": len(r.user_ids),
            "landed_rows_removed": r.landed_rows_removed,
            "applied_at": applied_at,
            "applied_by_run": run_id,
        }
        for r in requests
    ]


def complete_erasures(paths: Paths, entries: Sequence[dict[str, object]]) -> None:
    """Append the applied requests to the log, then delete their pending records."""
    if not entries:
        return
    with _log_path(paths).open("a") as log:
        for entry in entries:
            log.write(json.dumps(entry, default=lambda v: v.isoformat()) + "\n")
        log.flush()
        os.fsync(log.fileno())
    for entry in entries:
        (_pending_dir(paths) / f"{entry['request_id']}.json").unlink(missing_ok=True)
