"""Fail on Spark APIs that Databricks serverless compute rejects (it runs on Spark Connect).

Usage: `python tools/check_serverless.py [FILE_OR_DIR ...]` (default: src notebooks). Prints
one line per finding,
`file:line: <api> is not available on serverless (Spark Connect): use <alternative>`,
and exits 1 when there is any. Standard library only, so the pre-commit hook installs nothing.

What serverless rejects is documented in "Serverless compute limitations"
(https://docs.databricks.com/aws/en/compute/serverless/limitations): only Spark Connect APIs,
no RDD APIs, no Spark Context (`sc`, `spark.sparkContext`, `sqlContext`), no caching APIs
(`df.cache()`, `df.persist()`, `df.unpersist()`, `spark.catalog.cacheTable()`, `uncacheTable()`,
`clearCache()`, `CACHE TABLE`, `UNCACHE TABLE`), no global temporary views; and Spark Connect
has no JVM gateway (`_jvm`, `_jsc`, `_jdf`, ...). Checkpoints need the Spark Context's
checkpoint directory, so they are refused too.

A line that must keep such a call (e.g. code that only builds the local session) carries the
comment `# serverless: allowed (<why>)`.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ALLOW_PRAGMA = "# serverless: allowed"

_TABLE = "a table written through ctx.tables, or recompute the DataFrame"
_SESSION = "the SparkSession (spark.conf, spark.sql, spark.createDataFrame, spark.read)"
_DATAFRAME = "DataFrame operations (mapInPandas / applyInPandas for Python code)"
_PUBLIC = "public PySpark or Delta APIs (Spark Connect has no JVM gateway)"

# method calls, by name: `x.<name>(...)`
CALLS = {
    "cache": _TABLE,
    "persist": _TABLE,
    "unpersist": _TABLE,
    "checkpoint": _TABLE,
    "localCheckpoint": _TABLE,
    "cacheTable": "a table; serverless manages caching itself",
    "uncacheTable": "a table; serverless manages caching itself",
    "clearCache": "a table; serverless manages caching itself",
    "createGlobalTempView": "createOrReplaceTempView (session scoped) or a table",
    "createOrReplaceGlobalTempView": "createOrReplaceTempView (session scoped) or a table",
    # methods that only RDDs have
    "parallelize": "spark.createDataFrame",
    "mapPartitions": _DATAFRAME,
    "mapPartitionsWithIndex": _DATAFRAME,
    "mapValues": _DATAFRAME,
    "flatMapValues": _DATAFRAME,
    "reduceByKey": "groupBy().agg()",
    "groupByKey": "groupBy().agg()",
    "aggregateByKey": "groupBy().agg()",
    "combineByKey": "groupBy().agg()",
    "foldByKey": "groupBy().agg()",
    "sortByKey": "orderBy()",
    "collectAsMap": "a DataFrame aggregation, then collect() of the small result",
    "zipWithIndex": "a window function (row_number) or monotonically_increasing_id",
    "zipWithUniqueId": "monotonically_increasing_id",
    "glom": _DATAFRAME,
    "saveAsTextFile": "DataFrame writers (df.write)",
    "saveAsPickleFile": "DataFrame writers (df.write)",
}
# attributes, wherever they are read: `x.<name>`
ATTRIBUTES = {
    "sparkContext": _SESSION,
    "sqlContext": _SESSION,
    "rdd": _DATAFRAME,
    "_jvm": _PUBLIC,
    "_jsc": _PUBLIC,
    "_jdf": _PUBLIC,
    "_jsparkSession": _PUBLIC,
    "_jcol": _PUBLIC,
    "_jconf": _PUBLIC,
    "_jreader": _PUBLIC,
    "_jwrite": _PUBLIC,
}
# names, imported or used: `SparkContext(...)`, `from pyspark import SparkContext`
NAMES = {
    "SparkContext": _SESSION,
    "SQLContext": _SESSION,
    "HiveContext": _SESSION,
    "RDD": _DATAFRAME,
}
# SQL text passed to spark.sql(...)
SQL = re.compile(r"\b(?:(?:LAZY\s+)?CACHE\s+TABLE|UNCACHE\s+TABLE|CLEAR\s+CACHE)\b", re.I)
SQL_ADVICE = "a table; serverless manages caching itself"


def findings(source: str, filename: str) -> Iterator[tuple[int, str, str]]:
    """(line, api, alternative) for each use of an API that serverless rejects."""
    tree = ast.parse(source, filename)
    allowed = {
        number for number, line in enumerate(source.splitlines(), start=1) if ALLOW_PRAGMA in line
    }
    for node in ast.walk(tree):
        for line, api, advice in _check(node):
            if line not in allowed:
                yield line, api, advice


def _check(node: ast.AST) -> Iterator[tuple[int, str, str]]:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        name = node.func.attr
        if name in CALLS:
            yield node.lineno, f"{name}()", CALLS[name]
        elif name == "sql" and node.args and _sql_text(node.args[0]):
            statement = SQL.search(_sql_text(node.args[0]))
            if statement:
                yield node.lineno, " ".join(statement.group(0).upper().split()), SQL_ADVICE
    elif isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES:
        yield node.lineno, node.attr, ATTRIBUTES[node.attr]
    elif isinstance(node, ast.Name) and node.id in NAMES:
        yield node.lineno, node.id, NAMES[node.id]
    elif isinstance(node, ast.ImportFrom):
        for alias in node.names:
            if alias.name in NAMES:
                yield node.lineno, alias.name, NAMES[alias.name]


def _sql_text(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f-strings: the literal parts
        return "".join(
            part.value
            for part in node.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        )
    return ""


def python_files(paths: list[str]) -> Iterator[Path]:
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(path.rglob("*.py"))
        elif path.suffix == ".py":
            yield path


def main(argv: list[str] | None = None) -> int:
    paths = (sys.argv[1:] if argv is None else argv) or ["src", "notebooks"]
    problems = 0
    for path in python_files(paths):
        try:
            found = sorted(set(findings(path.read_text(encoding="utf-8"), str(path))))
        except SyntaxError as exc:
            print(f"{path}:{exc.lineno}: cannot be parsed: {exc.msg}")
            problems += 1
            continue
        for line, api, advice in found:
            print(
                f"{path}:{line}: {api} is not available on serverless (Spark Connect): use {advice}"
            )
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
