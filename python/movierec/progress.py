"""How a long step reports as it goes: a callable that hears one line at a time (the CLI
prints it with the time of day; tests and benchmarks collect it or ignore it)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]


def silent(_: str) -> None:
    """Hear nothing: the default where no one listens."""
