"""Every error movierec raises on purpose, in one place.

An error a user can cause (bad input, a busy warehouse, a failed test or audit) is a
`MovierecError`: the CLI prints its message and exits with its `exit_code`, and nothing
already published has changed. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class MovierecError(Exception):
    """Base of the errors the CLI turns into a message and an exit code."""

    exit_code: int = 1


class SettingsError(MovierecError, ValueError):
    """A setting (config file, option, environment variable) has a value movierec refuses."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One way a file breaks the contract: which file, which column, what is wrong."""

    file: str
    column: str | None
    problem: str
    bad_rows: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}: column '{self.column}'" if self.column else self.file
        rows = f" ({self.bad_rows} rows)" if self.bad_rows is not None else ""
        return f"{where}: {self.problem}{rows}"


class RawContractError(MovierecError):
    """Landed or incoming data breaks the raw data contract."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"raw data breaks the contract ({len(self.problems)} problems):\n{lines}")


class NoDataError(MovierecError):
    """A step found nothing to work on (no landed rows, no model, no recommendation run)."""


class WarehouseBusyError(MovierecError):
    """Another movierec process holds the warehouse lock."""


class DbtError(MovierecError):
    """dbt exited non-zero; its own output says which model or test failed."""


class AgreementError(MovierecError):
    """The ONNX export does not reproduce the trained forest closely enough."""


class DamagedFileError(MovierecError):
    """A file on disk is not the one that was recorded (a model's ONNX file)."""


class AuditError(MovierecError):
    """The built warehouse failed the audit; nothing was published."""

    def __init__(self, failures: Sequence[str]) -> None:
        self.failures = tuple(failures)
        lines = "\n".join(f"  - {f}" for f in self.failures)
        count = len(self.failures)
        super().__init__(f"audit failed, nothing published ({count} problems):\n{lines}")


class PublishingError(MovierecError):
    """Publishing or rolling back cannot go on (nothing to roll back to, a stale WAL)."""


class RunFailedError(MovierecError):
    """A run stopped before publishing; the published warehouse is unchanged."""


class DiskFullError(MovierecError):
    """The data folder's filesystem has (or had) too little free space for a run."""


class OutOfMemoryError(MovierecError):
    """DuckDB ran out of memory under its memory_limit; the message names where, the limit
    and the setting (`where`: " in `dbt build ...`", ", the run stopped after step ..."),
    and `also` what else would help ("lower X, ")."""

    def __init__(self, where: str, memory_limit: str, also: str = "") -> None:
        self.where = where
        self.memory_limit = memory_limit
        super().__init__(
            f"out of memory{where}: DuckDB's memory_limit is {memory_limit} "
            "(MOVIEREC_DUCKDB_MEMORY_LIMIT, for movierec's connections and dbt's); raise it, "
            f"{also}or give the machine more memory (docs/memory.md)"
        )
