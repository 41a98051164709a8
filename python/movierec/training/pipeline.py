"""Training a model: evaluate on held-out rows, refit, export, check agreement, register."""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt

from movierec.arrays import Matrix
from movierec.errors import AgreementError
from movierec.model import (
    INPUT_NAME,
    OUTPUT_NAME,
    Agreement,
    Metrics,
    ModelRecord,
    OnnxScorer,
    check_agreement,
    evaluate,
    fit_forest,
    fit_out_of_bag,
    insert_model,
    new_model_id,
    random_split,
    time_split,
    to_onnx,
    write_model_files,
)
from movierec.progress import Progress, silent
from movierec.settings import TrainSettings
from movierec.training.item_weights import fit_item_weights
from movierec.training.sampling import TrainingRows, training_rows
from movierec.warehouse import (
    FeatureContract,
    feature_batches,
    probe_users,
    request_all_films,
)

ONNX_IO = {"input": INPUT_NAME, "output": OUTPUT_NAME, "dtype": "float32", "positive_class": 1}


@dataclass(frozen=True)
class TrainResult:
    record: ModelRecord
    metrics: dict[str, Metrics]
    agreement: Agreement
    seconds: float

    @property
    def split_metrics(self) -> dict[str, dict[str, float]]:
        """Each split's metrics as the registry stores them."""
        return {split: m.as_dict() for split, m in self.metrics.items()}


@dataclass(frozen=True)
class CheckRows:
    """What the export's agreement check scores besides the held-out training rows: every
    unseen film of a few probe users (their features, and each row's user)."""

    features: Matrix
    user_ids: npt.NDArray[np.int64]


def train_model(
    con: duckdb.DuckDBPyConnection,
    contract: FeatureContract,
    models_dir: Path,
    settings: TrainSettings,
    progress: Progress = silent,
    masked: duckdb.DuckDBPyConnection | None = None,
) -> TrainResult:
    """`train_from_rows` on the warehouse's training rows (a masked mode's from the masked
    world `masked`), the model registered in the warehouse, and the warehouse's EASE item
    weights refitted (emptied without `ease_lambda`)."""
    columns = contract.select(settings.feature_set)
    fit_item_weights(con, settings.mode, progress)
    data = training_rows(con, contract, columns, settings.mode, masked=masked)
    result = train_from_rows(
        data, columns, settings, probe_rows(con, columns, settings), models_dir, progress
    )
    insert_model(con, result.record, result.split_metrics)
    return result


def probe_rows(
    con: duckdb.DuckDBPyConnection, columns: tuple[str, ...], settings: TrainSettings
) -> CheckRows:
    """Every unseen film of a few users per segment, at the default scoring moment."""
    per_segment = max(1, settings.agreement_users // 3)
    request_all_films(con, probe_users(con, per_segment, seed=settings.forest.random_state + 1))
    parts = list(feature_batches(con, columns, batch_rows=1_000_000))
    return CheckRows(
        features=np.vstack([matrix for _, matrix in parts]),
        user_ids=np.concatenate([keys.column(0).to_numpy() for keys, _ in parts]),
    )


def train_from_rows(
    data: TrainingRows,
    columns: tuple[str, ...],
    settings: TrainSettings,
    probes: CheckRows,
    models_dir: Path,
    progress: Progress = silent,
) -> TrainResult:
    """Evaluate on a time split (and the seed's random split), refit on every row, export
    to ONNX (when every row has the same moment, as masked rows do: fit once on every row,
    judged out-of-bag), check the export on the held-out rows and `probes`, and write the
    model's files. Raises AgreementError, writing nothing, when the export disagrees with
    the forest. Whoever calls registers the record."""
    started = time.perf_counter()
    progress(
        f"loaded {len(data.labels):,} {settings.mode.mode} training rows "
        f"({int(data.labels.sum()):,} positive) x {len(columns)} features"
    )

    metrics: dict[str, Metrics] = {}
    seed = settings.forest.random_state
    random_test = random_split(data.labels, settings.test_fraction, seed)
    # masked rows share one moment: no past to train on and future to test on, so the
    # forest fitted on every row is judged out-of-bag instead of refitting on a split
    if np.unique(data.requested_at).size > 1:
        test = time_split(data.requested_at, settings.test_fraction)
        _, metrics["time"] = evaluate(data.features, data.labels, test, settings.forest)
        progress(f"time split: {_describe(metrics['time'])}")
        if settings.compare_random_split:
            _, metrics["random"] = evaluate(
                data.features, data.labels, random_test, settings.forest
            )
            progress(f"random split: {_describe(metrics['random'])}")
        forest = fit_forest(data.features, data.labels, settings.forest)
    else:
        test = random_test
        forest, metrics["oob"] = fit_out_of_bag(data.features, data.labels, settings.forest)
        progress(f"the rows share one moment; out-of-bag: {_describe(metrics['oob'])}")

    onnx = to_onnx(forest, len(columns))
    scorer = OnnxScorer(onnx)
    # group test rows by user and probe rows by user, never mixing the two
    agreement = check_agreement(
        forest,
        scorer,
        np.vstack([data.features[test], probes.features]),
        np.concatenate([data.user_ids[test], -probes.user_ids]),
        settings.agreement_top_n,
    )
    progress(
        f"ONNX agreement: max |diff| {agreement.max_abs_diff:.2e} over {agreement.rows:,} rows, "
        f"top-{settings.agreement_top_n} differs for {agreement.groups_with_other_top_n} "
        f"of {agreement.groups} users"
    )
    if not agreement.passed:
        raise AgreementError(
            f"ONNX export disagrees with the trained forest: max |P_onnx - P_sklearn| = "
            f"{agreement.max_abs_diff:.2e} (bar 1e-5), top-{settings.agreement_top_n} differs "
            f"for {agreement.groups_with_other_top_n} users; the model was not registered"
        )

    created_at = datetime.now(UTC).replace(tzinfo=None)
    model_id = new_model_id(created_at, onnx)
    record = ModelRecord(
        model_id=model_id,
        created_at=created_at,
        feature_set=settings.feature_set,
        features=columns,
        params=settings.forest.as_dict(),
        trained_from=data.requested_at.min().astype("datetime64[us]").item(),
        trained_through=data.requested_at.max().astype("datetime64[us]").item(),
        training_rows=len(data.labels),
        onnx_path=str(models_dir / model_id / "model.onnx"),
        onnx_sha256=hashlib.sha256(onnx).hexdigest(),
        agreement_max_abs_diff=agreement.max_abs_diff,
        agreement_rows=agreement.rows,
        training=settings.mode.as_dict(),
    )
    result = TrainResult(record, metrics, agreement, time.perf_counter() - started)
    metadata = {**asdict(record), "metrics": result.split_metrics, "onnx_io": ONNX_IO}
    write_model_files(models_dir, model_id, onnx, metadata)
    return result


def _describe(m: Metrics) -> str:
    return (
        f"AUC {m.auc:.3f}, precision {m.precision:.3f}, recall {m.recall:.3f}, F1 {m.f1:.3f} "
        f"({m.train_rows:,} train / {m.test_rows:,} test rows, fit {m.fit_seconds:.1f} s)"
    )
