"""A scoring request, checked against a model's inputs before the model sees it.

The same two JSON layouts as MLflow and Databricks Model Serving:
`{"dataframe_records": [{"amount": 42.5, ...}, ...]}` and
`{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`.

Every way a request can be wrong is a `BadRequestError` with an HTTP status and a message that names
the field. Messages never repeat what the client sent: a value may be large or sensitive.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

MAX_BYTES = 1_000_000
MAX_ROWS = 10_000
EXAMPLE = '{"dataframe_records": [{"<feature>": <value>, ...}]}'


class BadRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Inputs:
    """What a model takes: its numeric and its text (categorical) columns, in signature order."""

    columns: tuple[str, ...]
    numeric: frozenset[str]

    @classmethod
    def from_schema(cls, schema: Any) -> Inputs:
        """From an MLflow input schema (`model.metadata.get_input_schema()`)."""
        numbers = {"double", "float", "long", "integer"}
        columns = tuple(spec.name for spec in schema.inputs)
        numeric = frozenset(spec.name for spec in schema.inputs if spec.type.name in numbers)
        return cls(columns, numeric)


def parse_request(body: bytes, inputs: Inputs) -> pd.DataFrame:
    """The rows of a request as a DataFrame with the model's columns, or a `BadRequestError`."""
    return frame_of(parse_records(body), inputs)


def parse_records(body: bytes) -> list[dict[str, Any]]:
    """The rows of a request as they were sent (checked to be objects), or a `BadRequestError`."""
    if len(body) > MAX_BYTES:
        raise BadRequestError(
            413, f"the request is larger than {MAX_BYTES:,} bytes: send fewer rows"
        )
    if not body.strip():
        raise BadRequestError(400, f"the request is empty: send JSON such as {EXAMPLE}")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        raise BadRequestError(
            400, f"the request is not valid JSON: send JSON such as {EXAMPLE}"
        ) from None
    records = _records(document)
    if not records:
        raise BadRequestError(400, f"the request has no rows: send JSON such as {EXAMPLE}")
    if len(records) > MAX_ROWS:
        raise BadRequestError(413, f"the request has more than {MAX_ROWS:,} rows: split it")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise BadRequestError(400, f"row {index} must be an object of feature values")
    return records


def frame_of(records: list[dict[str, Any]], inputs: Inputs) -> pd.DataFrame:
    """The rows as a DataFrame of a model's inputs, each value checked, or a `BadRequestError`."""
    rows = [_checked_row(index, record, inputs) for index, record in enumerate(records)]
    frame = pd.DataFrame(rows, columns=list(inputs.columns))
    for column in inputs.columns:
        frame[column] = frame[column].astype("float64" if column in inputs.numeric else "object")
    return frame


def _records(document: Any) -> list[Any]:
    if not isinstance(document, dict):
        raise BadRequestError(400, f"the request must be a JSON object such as {EXAMPLE}")
    if "dataframe_records" in document:
        records = document["dataframe_records"]
        if not isinstance(records, list):
            raise BadRequestError(400, "field 'dataframe_records' must be a list of objects")
        return records
    if "dataframe_split" in document:
        split = document["dataframe_split"]
        if not isinstance(split, dict) or not isinstance(split.get("columns"), list):
            raise BadRequestError(
                400, "field 'dataframe_split' needs 'columns' (a list) and 'data'"
            )
        columns, data = split["columns"], split.get("data")
        if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
            raise BadRequestError(
                400, "field 'dataframe_split.data' must be a list of rows (lists)"
            )
        if any(len(row) != len(columns) for row in data):
            raise BadRequestError(
                400, f"each row of 'dataframe_split.data' needs {len(columns)} values"
            )
        if not all(isinstance(column, str) for column in columns):
            raise BadRequestError(400, "field 'dataframe_split.columns' must hold column names")
        return [dict(zip(columns, row, strict=True)) for row in data]
    raise BadRequestError(
        400, f"the request needs 'dataframe_records' or 'dataframe_split': {EXAMPLE}"
    )


def request_key(records: list[dict[str, Any]], field: str, required: bool) -> str | None:
    """The value of `field` that routes the request (deployment.traffic.request_key): one value
    for all its rows, since one model answers the whole request. Absent: None, unless required."""
    values = {_key_text(index, record, field) for index, record in enumerate(records)}
    if None in values and (required or len(values) > 1):
        index = next(i for i, record in enumerate(records) if record.get(field) is None)
        need = "which routes the request to a model" if required else "as the other rows do"
        raise BadRequestError(422, f"row {index} lacks the field {field}, {need}")
    if len(values) > 1:
        raise BadRequestError(
            422, f"the rows of one request must share one {field} (one model answers a "
            "request): send each one's rows in a request of its own",
        )  # fmt: skip
    return values.pop()


def record_ids(records: list[dict[str, Any]], field: str) -> list[str | None]:
    """Each row's `field` as text (None where absent): what the inference log joins labels on."""
    return [None if record.get(field) is None else str(record[field]) for record in records]


def _key_text(index: int, record: dict[str, Any], field: str) -> str | None:
    value = record.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRequestError(
            422, f"field '{field}' of row {index} must be a text or a whole number"
        )
    return str(value)


def _checked_row(index: int, record: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    missing = [column for column in inputs.columns if column not in record]
    if missing:
        raise BadRequestError(422, f"row {index} lacks the field(s) {', '.join(missing)}")
    row = {}
    for column in inputs.columns:
        value = record[column]
        if column in inputs.numeric:
            # null means unknown (a customer without history); the model takes missing values
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            if value is not None and not (is_number and math.isfinite(value)):
                raise BadRequestError(
                    422, f"field '{column}' of row {index} must be a finite number or null"
                )
        elif not isinstance(value, str):
            raise BadRequestError(422, f"field '{column}' of row {index} must be a text value")
        row[column] = value
    return row
