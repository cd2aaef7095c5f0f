"""Serverless compute runs on Spark Connect and rejects some Spark APIs: src/ uses none of them.

The check is tools/check_serverless.py, the same script the pre-commit hook runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "tools" / "check_serverless.py"
ADVICE = "is not available on serverless (Spark Connect): use"

BAD_STEP = """\
def step(spark, df):
    df = df.cache()
    pairs = df.rdd.mapPartitions(len)
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql("CACHE TABLE features")
    df.createOrReplaceGlobalTempView("shared")
    return df._jdf
"""


def check(*paths: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_src_and_notebooks_use_no_api_that_serverless_rejects():
    result = check("src", "notebooks")
    assert result.returncode == 0, result.stdout


def test_each_rejected_api_is_reported_with_its_file_line_and_what_to_use(tmp_path):
    bad = tmp_path / "bad_step.py"
    bad.write_text(BAD_STEP)
    result = check(bad)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}:2: cache() {ADVICE} a table written through ctx.tables, or recompute the DataFrame",
        f"{bad}:3: mapPartitions() {ADVICE} DataFrame operations (mapInPandas / applyInPandas "
        "for Python code)",
        f"{bad}:3: rdd {ADVICE} DataFrame operations (mapInPandas / applyInPandas for Python code)",
        f"{bad}:4: sparkContext {ADVICE} the SparkSession (spark.conf, spark.sql, "
        "spark.createDataFrame, spark.read)",
        f"{bad}:5: CACHE TABLE {ADVICE} a table; serverless manages caching itself",
        f"{bad}:6: createOrReplaceGlobalTempView() {ADVICE} createOrReplaceTempView (session "
        "scoped) or a table",
        f"{bad}:7: _jdf {ADVICE} public PySpark or Delta APIs (Spark Connect has no JVM gateway)",
    ]


def test_a_directory_is_searched_and_an_allowed_line_is_skipped(tmp_path):
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "local.py").write_text(
        "from pyspark import SparkContext\n"
        "def quiet(spark):\n"
        '    spark.sparkContext.setLogLevel("ERROR")  # serverless: allowed (local session)\n'
    )
    result = check(tmp_path / "src")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{package / 'local.py'}:1: SparkContext {ADVICE} the SparkSession (spark.conf, "
        "spark.sql, spark.createDataFrame, spark.read)"
    ]
