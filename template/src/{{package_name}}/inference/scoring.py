"""Batch scoring in Spark: the model loads once per Python worker; rows flow as Arrow batches.
And a model version's files, downloaded for the driver to pack and ship."""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from ..errors import PipelineError
from ..training.dataset import FeatureSet
from ..training.explain import REFERENCE_KEY, top_reasons

MODEL_NAME, MODEL_VERSION = "model_name", "model_version"
SCORED_AT, BATCH_ID = "scored_at", "batch_id"
PROBABILITY = "fraud_probability"
PREDICTED = "is_fraud_predicted"
REASONS = "top_reasons"  # the features that pushed the score up most (inference.reasons > 0)

_loaded_models: dict[str, object] = {}  # per Python worker: model digest -> loaded model


@contextmanager
def downloaded(
    name: str, version: str | int, reasons: int = 0
) -> Iterator[tuple[Path, FeatureSet]]:
    """A model version's files in a temporary folder, and the inputs it takes.

    The inputs come from its signature: after a change of the configured features, the
    champion still gets the columns it was trained on. With `reasons` > 0 the version must carry
    the reference values that top reasons compare with."""
    # imported here: Spark's Python workers import this module too, and never need them
    import mlflow
    from mlflow.models import Model

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"models:/{name}/{version}", dst_path=tmp
            )
        )
        logged = Model.load(str(model_dir))
        if reasons and REFERENCE_KEY not in (logged.metadata or {}):
            raise PipelineError(
                f"inference.reasons={reasons}, but {name} v{version} was trained before reasons "
                f"existed (no {REFERENCE_KEY} in its metadata): retrain and deploy it, or set "
                "inference.reasons: 0"
            )
        yield model_dir, FeatureSet.of_signature(logged.signature)


def score(
    frame: DataFrame, model_dir: Path, features: list[str], threshold: float, reasons: int = 0
) -> DataFrame:
    """`frame` plus the fraud probability and the thresholded decision of the model in `model_dir`
    (and with `reasons` > 0 the top reasons of each score, see training/explain.py).

    The model files travel with the task as one zip (no registry access from workers); each
    worker unpacks and loads them on first use and keeps them for the next batches and tasks.
    """
    return score_packed(frame, pack_model(model_dir), features, threshold, reasons)


def pack_model(model_dir: Path) -> bytes:
    """The model's files as one zip, to ship to workers (or to a streaming query's batches)."""
    return _zip_directory(model_dir)


def score_packed(
    frame: DataFrame, payload: bytes, features: list[str], threshold: float, reasons: int = 0
) -> DataFrame:
    """`score`, with the model already packed by `pack_model`."""
    digest = hashlib.sha256(payload).hexdigest()
    output = StructType(
        [
            *frame.schema.fields,
            StructField(PROBABILITY, DoubleType()),
            StructField(PREDICTED, IntegerType()),
            *([StructField(REASONS, ArrayType(StringType()))] if reasons else []),
        ]
    )

    names = [f.name for f in output.fields]

    def predict(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        model = _load_once(digest, payload)
        for batch in batches:
            inputs = batch.select(features).to_pandas()
            probability = np.asarray(model.predict(inputs))[:, 1]
            columns = [
                *batch.columns,
                pa.array(probability, pa.float64()),
                pa.array(probability >= threshold, pa.bool_()).cast(pa.int32()),
            ]
            if reasons:
                reference = model.metadata.metadata[REFERENCE_KEY]
                why = top_reasons(raw_fraud_score(model), inputs, reference, reasons, probability)
                columns.append(pa.array(why, pa.list_(pa.string())))
            yield pa.RecordBatch.from_arrays(columns, names=names)

    return frame.mapInArrow(predict, output)


def raw_fraud_score(model):
    """The same P(fraud) from the scikit-learn pipeline inside the pyfunc model, for the copies
    that top reasons score: their rows were checked against the signature already, and MLflow's
    schema enforcement would cost a third of the reasons' time again."""
    raw = model.get_raw_model()
    return lambda frame: raw.predict_proba(frame)[:, 1]


def _load_once(digest: str, payload: bytes):
    if digest not in _loaded_models:
        import mlflow.pyfunc

        target = Path(tempfile.mkdtemp(prefix="model-"))
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            archive.extractall(target)
        _loaded_models[digest] = mlflow.pyfunc.load_model(str(target))
        shutil.rmtree(target, ignore_errors=True)
    return _loaded_models[digest]


def _zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return buffer.getvalue()
