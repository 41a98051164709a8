"""The warehouse lock: one process at a time builds and publishes."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from movierec.errors import WarehouseBusyError
from movierec.settings import Paths


@contextmanager
def exclusive(paths: Paths, command: str) -> Iterator[None]:
    """Hold the warehouse lock for the block, or raise WarehouseBusyError at once.

    An flock dies with its process, so a killed run never leaves the warehouse locked.
    """
    paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            raise WarehouseBusyError(
                f"another movierec run holds {paths.lock_path} ({holder}); "
                "it must finish before this one can start"
            ) from None
        os.ftruncate(fd, 0)
        since = datetime.now(UTC).replace(tzinfo=None)
        holder = f"{command}, pid {os.getpid()}, since {since:%Y-%m-%d %H:%M:%S} UTC"
        os.pwrite(fd, holder.encode(), 0)
        yield
    finally:
        os.close(fd)
