"""Delta tables by logical name, written by Spark: the same statements locally and on Databricks.

Only the naming differs: `catalog.schema.name` in Unity Catalog, or a path-based name
delta.`<root>/name` below the project's local folder. Pipelines only call the `Tables` methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

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


class TableNames(Protocol):
    """Where a logical table name lives, and whether a table is there yet."""

    def full_name(self, name: str) -> str: ...
    def exists(self, spark: SparkSession, name: str) -> bool: ...


class CatalogNames:
    """Unity Catalog: `catalog.schema.name`."""

    def __init__(self, catalog: str, schema: str) -> None:
        self.catalog, self.schema = catalog, schema

    def full_name(self, name: str) -> str:
        return f"{self.catalog}.{self.schema}.{name}"

    def exists(self, spark: SparkSession, name: str) -> bool:
        return spark.catalog.tableExists(self.full_name(name))


class PathNames:
    """Path-based Delta tables delta.`<root>/name`: no metastore to keep, `rm -rf` resets."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def full_name(self, name: str) -> str:
        return f"delta.`{self.root / name}`"

    def exists(self, spark: SparkSession, name: str) -> bool:
        # the catalog API cannot look up path names; a Delta table is a folder with a log
        return (self.root / name / "_delta_log").is_dir()


class DeltaTables:
    """Every write is one Delta commit made by Spark's executors: nothing is collected to the
    driver, and a process killed mid-write leaves the previous version of the table intact."""

    def __init__(self, spark: SparkSession, names: TableNames) -> None:
        self.spark = spark
        self.names = names

    def full_name(self, name: str) -> str:
        return self.names.full_name(name)

    def exists(self, name: str) -> bool:
        return self.names.exists(self.spark, name)

    def read(self, name: str) -> DataFrame:
        if not self.exists(name):
            raise TableNotFoundError(name, self.full_name(name))
        return self.spark.read.table(self.full_name(name))

    def version(self, name: str) -> int:
        if not self.exists(name):
            raise TableNotFoundError(name, self.full_name(name))
        history = self.spark.sql(f"DESCRIBE HISTORY {self.full_name(name)} LIMIT 1")
        return int(history.select("version").first()[0])

    def overwrite(self, df: DataFrame, name: str) -> None:
        df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").saveAsTable(
            self.full_name(name)
        )

    def upsert(self, df: DataFrame, name: str, keys: list[str]) -> None:
        """Delta MERGE on `keys`: matched rows are updated, new ones inserted (idempotent)."""
        if not self.exists(name):
            self.overwrite(df, name)
            return
        condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
        # SQL rather than the DeltaTable API: it runs unchanged over Spark Connect everywhere
        # `{source}` is filled by Spark with the DataFrame (a plan, never collected rows)
        merge = f"MERGE INTO {self.full_name(name)} AS t USING " + "{source} AS s "
        merge += f"ON {condition} WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
        self.spark.sql(merge, source=df).collect()

    def replace_where(self, df: DataFrame, name: str, column: str, value: str) -> None:
        """Atomically replace the rows where `column == value` by `df` (one Delta commit)."""
        if not self.exists(name):
            self.overwrite(df, name)
            return
        df.write.format("delta").mode("overwrite").option(
            "replaceWhere", _equals(column, value)
        ).saveAsTable(self.full_name(name))


def _equals(column: str, value: str) -> str:
    """A SQL predicate `column = 'value'` with the value quoted safely."""
    escaped = value.replace("'", "''")
    return f"`{column}` = '{escaped}'"
