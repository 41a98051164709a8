"""What every command shares: settings from the environment, progress lines, and one way
to turn a MovierecError into a message and an exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from movierec.errors import MovierecError
from movierec.settings import AuditSettings, Paths, PublishSettings, Settings, load


def say(message: str) -> None:
    """A progress line, stamped with the time."""
    typer.echo(f"[{datetime.now():%H:%M:%S}] {message}")


@contextmanager
def reported(published: Paths | Path | None = None) -> Iterator[None]:
    """Turn a MovierecError into its message on stderr and its exit code; for a command
    that publishes (`published` given: the installation's DuckDB warehouse, or the path
    readers open), say that the published warehouse is unchanged."""
    try:
        yield
    except MovierecError as exc:
        message = str(exc)
        if published is not None:
            where = published.warehouse_path if isinstance(published, Paths) else published
            message += f"\nnothing published: {where} is unchanged"
        typer.secho(message, fg=typer.colors.RED, err=True)
        raise typer.Exit(code=exc.exit_code) from exc


def settings(**overrides: Any) -> Settings:
    """The settings root (environment + config file), with one run's overrides."""
    with reported():
        return load(**overrides)


# --- options shared by the commands that publish --------------------------------------

OnBadRows = Annotated[
    str,
    typer.Option(
        help="'fail': a landed row breaking the contract stops the run; 'quarantine': it "
        "goes to ops.quarantined_rows and out of every model, and the run goes on."
    ),
]
KeepVersions = Annotated[
    int, typer.Option(help="Published versions kept (for `movierec rollback`).")
]
MinRowRatio = Annotated[
    float, typer.Option(help="Audit: fewest rows per audited table, as a share of published.")
]
MaxRowRatio = Annotated[
    float, typer.Option(help="Audit: most rows per audited table, as a multiple of published.")
]
TrainingModeOption = Annotated[
    str | None,
    typer.Option(
        help="'explicit' or 'implicit'; default: [training] mode of the config file "
        "(movierec.toml, or MOVIEREC_CONFIG)."
    ),
]


def publish_settings(
    on_bad_rows: str = PublishSettings.on_bad_rows,
    keep_versions: int = PublishSettings.keep_versions,
    min_row_ratio: float = AuditSettings.min_row_ratio,
    max_row_ratio: float = AuditSettings.max_row_ratio,
) -> PublishSettings:
    """Publishing settings from the shared options."""
    with reported():
        return PublishSettings(
            audit=AuditSettings(min_row_ratio=min_row_ratio, max_row_ratio=max_row_ratio),
            keep_versions=keep_versions,
            on_bad_rows=on_bad_rows,  # type: ignore[arg-type]
        )
