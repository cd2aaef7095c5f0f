"""Delta tables by logical name, written by Spark: the same statements locally and on Databricks.

Only the naming differs: `catalog.schema.name` in Unity Catalog, or a path-based name
delta.`<root>/name` below the project's local folder. Pipelines only call the `Tables` methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import DataStreamReader

from ..errors import TableNotFoundError

DELETE = "_sync_delete"  # marks, in a sync's change set, a key to delete


class Tables(Protocol):
    def full_name(self, name: str) -> str: ...
    def exists(self, name: str) -> bool: ...
    def read(self, name: str) -> DataFrame: ...
    def version(self, name: str) -> int: ...
    def overwrite(self, df: DataFrame, name: str) -> None: ...
    def upsert(self, df: DataFrame, name: str, keys: list[str]) -> None: ...
    def sync(self, df: DataFrame, name: str, keys: list[str]) -> None: ...
    def replace_where(self, df: DataFrame, name: str, column: str, value: str) -> None: ...
    def read_stream(self, name: str) -> DataFrame: ...
    def checkpoint_location(self, query: str) -> str: ...
    def table_id(self, name: str) -> str: ...


class TableNames(Protocol):
    """Where a logical table name lives, whether a table is there yet, and where a streaming
    query keeps its checkpoint."""

    def full_name(self, name: str) -> str: ...
    def exists(self, spark: SparkSession, name: str) -> bool: ...
    def checkpoint_location(self, query: str) -> str: ...
    def stream_from(self, reader: DataStreamReader, name: str) -> DataFrame: ...


class CatalogNames:
    """Unity Catalog: `catalog.schema.name`; checkpoints in the schema's volume."""

    def __init__(self, catalog: str, schema: str, volume: str = "checkpoints") -> None:
        self.catalog, self.schema, self.volume = catalog, schema, volume

    def checkpoint_location(self, query: str) -> str:
        return f"/Volumes/{self.catalog}/{self.schema}/{self.volume}/{query}"

    def stream_from(self, reader: DataStreamReader, name: str) -> DataFrame:
        return reader.table(self.full_name(name))

    def full_name(self, name: str) -> str:
        return f"{self.catalog}.{self.schema}.{name}"

    def exists(self, spark: SparkSession, name: str) -> bool:
        return spark.catalog.tableExists(self.full_name(name))


class PathNames:
    """Path-based Delta tables delta.`<root>/name`: no metastore to keep, `rm -rf` resets."""

    def __init__(self, root: Path, checkpoints: Path | None = None) -> None:
        self.root = root.resolve()
        self.checkpoints = (checkpoints or self.root.parent / "checkpoints").resolve()

    def full_name(self, name: str) -> str:
        return f"delta.`{self.root / name}`"

    def checkpoint_location(self, query: str) -> str:
        return str(self.checkpoints / query)

    def stream_from(self, reader: DataStreamReader, name: str) -> DataFrame:
        return reader.load(str(self.root / name))  # Delta streams path tables by path only

    def exists(self, spark: SparkSession, name: str) -> bool:
        # the catalog API cannot look up path names. A table exists once its log holds a commit:
        # a first write killed before committing leaves a log folder without one (and data
        # files no commit refers to), as a killed CREATE leaves no table in Unity Catalog
        log = self.root / name / "_delta_log"
        return log.is_dir() and any(
            entry.suffix == ".json" or ".checkpoint." in entry.name for entry in log.iterdir()
        )


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
        """Delta MERGE on `keys`: matched rows are updated, new ones inserted (idempotent).

        New columns of `df` are added to the table (schema evolution); rows already there get
        null in them until they are updated."""
        if not self.exists(name):
            self.overwrite(df, name)
            return
        clauses = "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
        self._merge(df, name, keys, clauses, evolve=True)

    def sync(self, df: DataFrame, name: str, keys: list[str]) -> None:
        """Make the table equal `df` (unique on `keys`) in one Delta commit: derived state that
        follows its source, whatever happened to the source (rows changed, added or deleted).

        Same columns and types: the rows that differ (null-safe, as set operations compare) and
        the keys that are gone are found first, then one MERGE applies only them, so it
        rewrites only the files holding changed rows and a re-run writes no data file.
        Columns added, removed or retyped (a feature added to or dropped from the code): one
        overwrite with the new schema, since every row changes anyway.
        """
        if not self.exists(name) or _columns(df) != _columns(self.read(name)):
            self.overwrite(df, name)
            return
        target = self.read(name).select(*df.columns)
        changed = df.subtract(target).withColumn(DELETE, F.lit(False))
        gone = target.select(*keys).subtract(df.select(*keys)).withColumn(DELETE, F.lit(True))
        changes = changed.unionByName(gone, allowMissingColumns=True)
        columns = [f"`{c}`" for c in df.columns]
        updates = ", ".join(f"t.{c} = s.{c}" for c in columns)
        values = ", ".join(f"s.{c}" for c in columns)
        clauses = (
            f"WHEN MATCHED AND s.{DELETE} THEN DELETE WHEN MATCHED THEN UPDATE SET {updates} "
            f"WHEN NOT MATCHED AND NOT s.{DELETE} THEN INSERT ({', '.join(columns)}) "
            f"VALUES ({values})"
        )
        self._merge(changes, name, keys, clauses, null_safe=True)

    def _merge(
        self,
        df: DataFrame,
        name: str,
        keys: list[str],
        clauses: str,
        evolve: bool = False,
        null_safe: bool = False,
    ) -> None:
        equals = "<=>" if null_safe else "="
        condition = " AND ".join(f"t.`{k}` {equals} s.`{k}`" for k in keys)
        # SQL rather than the DeltaTable API: it runs unchanged over Spark Connect everywhere
        # (Delta 4 and Databricks). `WITH SCHEMA EVOLUTION` needs no session conf, which
        # serverless may refuse to set. `{source}` is filled by Spark with the DataFrame (a
        # plan, never collected rows).
        into = "MERGE WITH SCHEMA EVOLUTION INTO" if evolve else "MERGE INTO"
        merge = f"{into} {self.full_name(name)} AS t USING " + "{source} AS s "
        self.spark.sql(f"{merge}ON {condition} {clauses}", source=df).collect()

    def replace_where(self, df: DataFrame, name: str, column: str, value: str) -> None:
        """Atomically replace the rows where `column == value` by `df` (one Delta commit).

        New columns of `df` are added to the table (e.g. `top_reasons` once turned on)."""
        if not self.exists(name):
            self.overwrite(df, name)
            return
        df.write.format("delta").mode("overwrite").option(
            "replaceWhere", _equals(column, value)
        ).option("mergeSchema", "true").saveAsTable(self.full_name(name))

    def read_stream(self, name: str) -> DataFrame:
        """The table as a streaming source of its appended rows. Commits that change or delete
        rows (a regenerated history) are skipped, not replayed: batch inference covers them."""
        if not self.exists(name):
            raise TableNotFoundError(name, self.full_name(name))
        reader = self.spark.readStream.format("delta").option("skipChangeCommits", "true")
        return self.names.stream_from(reader, name)

    def checkpoint_location(self, query: str) -> str:
        return self.names.checkpoint_location(query)

    def table_id(self, name: str) -> str:
        """The table's Delta id: a recreated table gets a new one."""
        if not self.exists(name):
            raise TableNotFoundError(name, self.full_name(name))
        return self.spark.sql(f"DESCRIBE DETAIL {self.full_name(name)}").first()["id"]


def _columns(df: DataFrame) -> dict[str, str]:
    """Column name -> type, whatever the order and nullability (a MERGE matches by name)."""
    return {field.name.lower(): field.dataType.simpleString() for field in df.schema.fields}


def _equals(column: str, value: str) -> str:
    """A SQL predicate `column = 'value'` with the value quoted safely."""
    escaped = value.replace("'", "''")
    return f"`{column}` = '{escaped}'"
