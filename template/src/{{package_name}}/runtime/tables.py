"""Tables by logical name: Delta on local disk through delta-rs, or Unity Catalog through Spark.

Pipelines only call the `Tables` methods; which adapter sits behind them is the runtime's choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from ..errors import TableNotFoundError


class Tables(Protocol):
    def full_name(self, name: str) -> str: ...
    def exists(self, name: str) -> bool: ...
    def read(self, name: str) -> DataFrame: ...
    def version(self, name: str) -> int: ...
    def overwrite(self, df: DataFrame, name: str) -> None: ...
    def upsert(self, df: DataFrame, name: str, keys: list[str]) -> None: ...
    def replace_where(self, df: DataFrame, name: str, column: str, value: str) -> None: ...


class LocalDeltaTables:
    """Real Delta tables in `<root>/<name>`, written with delta-rs (no JVM jars, no network).

    Spark reads a table's current files as Parquet: valid because delta-rs writes neither
    deletion vectors nor column mapping by default.
    """

    def __init__(self, spark: SparkSession, root: Path) -> None:
        self.spark = spark
        self.root = root

    def full_name(self, name: str) -> str:
        return str(self.root / name)

    def exists(self, name: str) -> bool:
        from deltalake import DeltaTable

        return DeltaTable.is_deltatable(self.full_name(name))

    def read(self, name: str) -> DataFrame:
        table = self._delta(name)
        files = table.file_uris()
        if files:
            return self.spark.read.parquet(*files)
        empty = table.schema().to_arrow()
        return self.spark.createDataFrame(pa.schema(empty).empty_table())

    def version(self, name: str) -> int:
        return self._delta(name).version()

    def overwrite(self, df: DataFrame, name: str) -> None:
        from deltalake import write_deltalake

        write_deltalake(
            self.full_name(name), df.toArrow(), mode="overwrite", schema_mode="overwrite"
        )

    def upsert(self, df: DataFrame, name: str, keys: list[str]) -> None:
        if not self.exists(name):
            self.overwrite(df, name)
            return
        predicate = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
        (
            self._delta(name)
            .merge(source=df.toArrow(), predicate=predicate, source_alias="s", target_alias="t")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .execute()
        )

    def replace_where(self, df: DataFrame, name: str, column: str, value: str) -> None:
        """Atomically replace the rows where `column == value` by `df` (one Delta commit)."""
        from deltalake import write_deltalake

        if not self.exists(name):
            self.overwrite(df, name)
            return
        write_deltalake(
            self.full_name(name), df.toArrow(), mode="overwrite", predicate=_equals(column, value)
        )

    def _delta(self, name: str):
        from deltalake import DeltaTable

        if not self.exists(name):
            raise TableNotFoundError(name, self.full_name(name))
        return DeltaTable(self.full_name(name))


class UnityCatalogTables:
    """Managed Delta tables `catalog.schema.name` in Unity Catalog, through Spark."""

    def __init__(self, spark: SparkSession, catalog: str, schema: str) -> None:
        self.spark = spark
        self.catalog = catalog
        self.schema = schema

    def full_name(self, name: str) -> str:
        return f"{self.catalog}.{self.schema}.{name}"

    def exists(self, name: str) -> bool:
        return self.spark.catalog.tableExists(self.full_name(name))

    def read(self, name: str) -> DataFrame:
        if not self.exists(name):
            raise TableNotFoundError(name, self.full_name(name))
        return self.spark.read.table(self.full_name(name))

    def version(self, name: str) -> int:
        history = self.spark.sql(f"DESCRIBE HISTORY {self.full_name(name)} LIMIT 1")
        return int(history.select("version").first()[0])

    def overwrite(self, df: DataFrame, name: str) -> None:
        df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").saveAsTable(
            self.full_name(name)
        )

    def upsert(self, df: DataFrame, name: str, keys: list[str]) -> None:
        if not self.exists(name):
            self.overwrite(df, name)
            return
        from delta.tables import DeltaTable  # Spark's native Delta: on Databricks only

        condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
        (
            DeltaTable.forName(self.spark, self.full_name(name))
            .alias("t")
            .merge(df.alias("s"), condition)
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
            .execute()
        )

    def replace_where(self, df: DataFrame, name: str, column: str, value: str) -> None:
        if not self.exists(name):
            self.overwrite(df, name)
            return
        df.write.format("delta").mode("overwrite").option(
            "replaceWhere", _equals(column, value)
        ).saveAsTable(self.full_name(name))


def _equals(column: str, value: str) -> str:
    """A SQL predicate `column = 'value'` with the value quoted safely."""
    escaped = value.replace("'", "''")
    return f"{column} = '{escaped}'"
