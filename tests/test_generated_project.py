"""Slow tier: install generated projects with their own setup, run their tests and pipeline.

One scenario per code variant (`scenario_matrix.slow_tier_scenarios()`: scenarios that render the
same code are installed once) is set up with `uv sync`, then:

- the default project runs its whole test suite (unit and integration) and `run all` on the
  default data size; what the pipeline wrote is read back and checked;
- every other variant (other names, Python 3.12) runs its unit tests and `run all` on small
  data, checked the same way. Its integration tests would run the same code under other names
  for about three more minutes each.

What a pipeline wrote is read back with the project's own Spark, Delta and MLflow, through
`uv run python` (this repository's env has none of them).

Everything runs in the rendered project with its own venv; uv's global cache keeps `uv sync`
cheap after the first time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pytest
import scenario_matrix
import yaml

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
SLOW_SCENARIOS = scenario_matrix.slow_tier_scenarios()

OTHER_VARIANTS = [name for name in SLOW_SCENARIOS if name != "default"]

# A cold uv cache builds pyspark from its ~450 MB source archive: minutes, not seconds.
SETUP_TIMEOUT = 1800
TESTS_TIMEOUT = 3600  # the whole project suite on Spark Connect: tens of minutes on 2 cores
PIPELINE_TIMEOUT = 600
INSPECT_TIMEOUT = 600
# `run all` of the other variants: the sizes the projects' own integration tests use
SMALL_DATA = [
    "data.n_transactions=6000",
    "data.n_customers=200",
    "data.days=60",
    "model.params.max_iter=50",
]

# Run inside the project's venv: prints the Delta tables (rows, version) and the local registry.
# The tables are read by a plain Spark with Delta of its own (delta-spark's documented setup, the
# jars from the Ivy cache the project filled), independent of the project's table adapter.
INSPECT_OUTPUTS = """
import json, os, pathlib, sys, mlflow
from delta import configure_spark_with_delta_pip
from pyspark.sql import SparkSession, functions as F

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
builder = (
    SparkSession.builder.master("local[1]")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
    .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
    # Delta's log replay in one task, not 50 per table (the project's local default too): at
    # load, 50 tasks per table of a dozen tables took most of the time limit
    .config("spark.databricks.delta.snapshotPartitions", "1")
    .config("spark.ui.showConsoleProgress", "false")
)
spark = configure_spark_with_delta_pip(builder).getOrCreate()
root = pathlib.Path(".local")
tables = {}
for path in sorted((root / "tables").iterdir()):
    if (path / "_delta_log").is_dir():
        name = f"delta.`{path.resolve()}`"
        data = spark.read.table(name)
        def distinct(column):
            if column not in data.columns:
                return []
            return sorted(r[0] for r in data.select(column).distinct().collect())
        tables[path.name] = {
            "rows": data.count(),
            "version": spark.sql(f"DESCRIBE HISTORY {name} LIMIT 1").first()["version"],
            "name": name,
            "columns": data.columns,
            "model_versions": distinct("model_version"),
            "statuses": distinct("status"),
        }
spark.stop()
store = f"sqlite:///{(root / 'mlflow' / 'mlflow.db').resolve()}"
client = mlflow.MlflowClient(tracking_uri=store, registry_uri=store)
models = {}
for model in client.search_registered_models():
    versions = {}
    for found in client.search_model_versions(f"name='{model.name}'"):
        # search results carry no aliases: get each version itself
        version = client.get_model_version(model.name, found.version)
        run = client.get_run(version.run_id) if version.run_id else None
        versions[version.version] = {
            "tags": version.tags,
            "aliases": list(version.aliases),
            "description": version.description,
            "metrics": run.data.metrics if run else {},
        }
    models[model.name] = versions
print("INSPECT" + json.dumps({"tables": tables, "models": models}))
"""


def read_outputs(project: Path, run_command, uv: str) -> dict:
    """The tables and registered models a pipeline left in the project's `.local/`."""
    result = run_command(project, [uv, "run", "python", "-c", INSPECT_OUTPUTS], INSPECT_TIMEOUT)
    marker = next(line for line in result.stdout.splitlines() if line.startswith("INSPECT"))
    return json.loads(marker.removeprefix("INSPECT"))


def read_yaml(project: Path, relative: str) -> dict:
    return yaml.safe_load((project / relative).read_text())


def assert_suite_passed(output: str) -> None:
    summary = output.strip().splitlines()[-1]
    assert " passed" in summary
    assert "failed" not in summary
    assert "error" not in summary


@pytest.fixture(scope="module")
def install(tmp_path_factory, run_command, uv) -> Callable[[str], Path]:
    """`install(scenario)`: generated as a user does (Copier's command line, its task on: `uv
    lock`, `git init`, a first commit), then set up from that lock with `uv sync --locked`, once.
    """
    installed: dict[str, Path] = {}

    def install_once(scenario: str) -> Path:
        if scenario not in installed:
            folder = tmp_path_factory.mktemp(f"installed-{scenario}")
            answers = folder / "answers.yml"
            answers.write_text(yaml.safe_dump(scenario_matrix.scenario_answers(scenario)))
            project = folder / "project"
            # as the README does it: `uvx copier==<version> copy --trust --defaults ...`
            copier = [uv, "tool", "run", f"copier=={version('copier')}", "copy", "--trust"]
            where = ["--defaults", "--vcs-ref", "HEAD", "--data-file", str(answers), str(REPO_ROOT)]
            run_command(folder, [*copier, *where, str(project)], SETUP_TIMEOUT)
            # .pyc files made at install, as a laptop's Python caches them after its first
            # import: where PYTHONDONTWRITEBYTECODE is set (CI images, this repo's CI) every
            # process would otherwise compile mlflow, pyspark and sklearn again, seconds each
            run_command(project, [uv, "sync", "--locked", "--compile-bytecode"], SETUP_TIMEOUT)
            installed[scenario] = project
        return installed[scenario]

    return install_once


@pytest.mark.parametrize("scenario", SLOW_SCENARIOS)
def test_a_new_project_is_one_clean_commit_that_holds_its_lock(scenario: str, install, run_command):
    # `uv sync --locked` above already failed if uv.lock did not match pyproject.toml
    project = install(scenario)
    tracked = run_command(project, ["git", "ls-files"], 60).stdout.split()
    assert "uv.lock" in tracked
    assert ".copier-answers.yml" in tracked
    assert run_command(project, ["git", "status", "--porcelain"], 60).stdout == ""
    commits = run_command(project, ["git", "rev-list", "--count", "HEAD"], 60).stdout
    assert commits.strip() == "1"


@pytest.fixture(scope="module")
def installed(install) -> Path:
    """The default project, set up: the one whose pipeline runs on the default data size."""
    return install("default")


@pytest.fixture(scope="module")
def answers(installed: Path) -> dict:
    return read_yaml(installed, ".copier-answers.yml")


@pytest.fixture(scope="module")
def config(installed: Path) -> dict:
    return read_yaml(installed, "conf/project.yml")


@pytest.fixture(scope="module")
def pipeline_output(installed: Path, answers: dict, run_command, uv) -> str:
    """`uv run <slug> run all`: the whole local pipeline on the default data size."""
    result = run_command(
        installed, [uv, "run", answers["project_slug"], "run", "all"], PIPELINE_TIMEOUT
    )
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def outputs(installed: Path, pipeline_output: str, run_command, uv) -> dict:
    """The tables and registered models the default-size pipeline left in `.local/`."""
    return read_outputs(installed, run_command, uv)


# -- the default project: its whole test suite, its pipeline on the default data size ----------


def test_the_project_test_suite_passes(installed: Path, run_command, uv):
    result = run_command(installed, [uv, "run", "pytest", "-q"], TESTS_TIMEOUT)
    assert_suite_passed(result.stdout)


def test_the_pipeline_prints_a_summary_of_every_step(pipeline_output: str):
    assert "Pipeline summary (local)" in pipeline_output
    for row in ("runtime start", "data", "features", "train", "total"):
        assert f"│ {row}" in pipeline_output, f"no {row!r} row in the summary"


def test_the_pipeline_writes_the_raw_tables_at_the_default_size(outputs: dict, config: dict):
    tables, names = outputs["tables"], config["tables"]
    assert config["data"]["n_transactions"] == 100_000, "the documented default data size"
    assert tables[names["raw_transactions"]]["rows"] == 100_000
    assert tables[names["raw_customers"]]["rows"] == config["data"]["n_customers"]
    assert tables[names["raw_labels"]]["rows"] == 100_000


def test_every_raw_transaction_becomes_a_feature_row_or_is_quarantined(outputs: dict, config: dict):
    tables, names = outputs["tables"], config["tables"]
    raw = tables[names["raw_transactions"]]["rows"]
    quarantined = tables[names["quarantine"]]["rows"]
    features = tables[names["transaction_features"]]["rows"]
    assert features + quarantined == raw
    assert 0 < quarantined <= config["contract"]["max_reject_rate"] * raw
    assert tables[names["customer_features"]]["rows"] > config["data"]["n_customers"]


def test_the_model_is_registered_with_lineage_to_the_tables_it_read(
    outputs: dict, config: dict, answers: dict
):
    assert answers["model_name"] == "fraud_detection_model"
    versions = outputs["models"][answers["model_name"]]
    first = versions["1"]
    assert first["description"]
    for key in ("raw_labels", "transaction_features", "customer_features"):
        table = config["tables"][key]
        written = outputs["tables"][table]
        assert first["tags"][f"lineage_{table}_table"] == written["name"]
        read_version = first["tags"][f"lineage_{table}_version"]
        assert read_version.isdigit()
        assert int(read_version) <= written["version"]
    assert first["metrics"]["roc_auc"] > 0.75, "the synthetic fraud signal is learnable"
    # the run handed its version explicitly to validate and deploy
    assert outputs["tables"][config["tables"]["training_runs"]]["model_versions"] == ["1"]


def test_the_first_model_passes_validation_and_becomes_champion(outputs: dict, answers: dict):
    first = outputs["models"][answers["model_name"]]["1"]
    assert first["tags"]["validation_status"] == "passed"
    assert "champion" in first["aliases"]


def test_batch_inference_scores_with_the_champion(outputs: dict, config: dict):
    predictions = outputs["tables"][config["tables"]["predictions"]]
    assert predictions["rows"] > 0
    assert predictions["model_versions"] == ["1"]
    assert {"model_name", "model_version", "scored_at"} <= set(predictions["columns"])
    assert outputs["tables"][config["tables"]["evaluations"]]["rows"] > 0


def test_monitoring_compares_the_scored_batch_with_the_training_baseline(
    installed: Path, outputs: dict, config: dict
):
    monitoring = outputs["tables"][config["tables"]["monitoring"]]
    assert monitoring["rows"] > 0
    assert set(monitoring["statuses"]) <= {"ok", "warn", "alert", "no data"}
    reports = list((installed / ".local" / "reports").glob("*.html"))
    assert reports, "the local run saves an HTML drift report"
    assert "<table" in reports[0].read_text()


# -- the other code variants: unit tests, and the pipeline on small data --------------------------


@pytest.mark.parametrize("scenario", OTHER_VARIANTS)
def test_a_code_variant_passes_its_unit_tests(scenario: str, install, run_command, uv):
    project = install(scenario)
    result = run_command(project, [uv, "run", "pytest", "-q", "-m", "not integration"], 600)
    assert_suite_passed(result.stdout)


@pytest.mark.parametrize("scenario", OTHER_VARIANTS)
def test_a_code_variant_runs_its_whole_pipeline_under_its_own_names(
    scenario: str, install, run_command, uv
):
    project = install(scenario)
    answers = read_yaml(project, ".copier-answers.yml")
    overrides = [f"--set={pair}" for pair in SMALL_DATA]
    command = [uv, "run", answers["project_slug"], "run", "all", *overrides]
    run_command(project, command, PIPELINE_TIMEOUT)

    outputs = read_outputs(project, run_command, uv)
    tables = read_yaml(project, "conf/project.yml")["tables"]
    assert outputs["tables"][tables["raw_transactions"]]["rows"] == 6000
    assert list(outputs["models"]) == [answers["model_name"]]
    first = outputs["models"][answers["model_name"]]["1"]
    assert "champion" in first["aliases"]
    assert outputs["tables"][tables["predictions"]]["model_versions"] == ["1"]
