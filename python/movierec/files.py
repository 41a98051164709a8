"""Durable files: fsync, replace a file by a complete new one, and a file's checksum."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_CHUNK = 1 << 20


def fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomically(target: Path, text: str) -> None:
    """Readers see the old text or the new, never part of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text)
    fsync(tmp)
    tmp.replace(target)


def sha256_of(path: Path) -> str:
    """The file's sha256, hex, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sql_path(path: Path) -> str:
    """A path as the body of a SQL string literal."""
    return str(path).replace("'", "''")
