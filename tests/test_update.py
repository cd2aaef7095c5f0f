"""Update tier: `copier update` from an older template version keeps the user's work.

Everything happens in a temporary clone of this repository, never in the repository itself: the
clone gets the working tree as it is on disk (uncommitted changes included, as CI would commit
them) as the new version, and an older version next to it, and the tests tag both there. The
older version is made by the test from the new one (a "release" that lacked a file, had one more,
worded some template-owned files differently and, for the migration test, kept a file at another
path). When this repository has release tags, the newest one is also updated from, as it is.

A project is rendered from the older version, committed, edited as a user would edit it
(features, model, configuration values, new files, a deleted file), committed again, then
updated non-interactively with Copier's Python API. Copier exits normally even when it could not
merge, so the tests look for conflict markers, unmerged paths and `.rej` files themselves, and
compare the result with a fresh render of the new version given the same edits.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import copier
import pytest
import yaml
from checks.render import render

REPO_ROOT = Path(__file__).resolve().parents[1]
ANSWERS = {"project_name": "Fraud Detection"}  # the default project
PACKAGE = "fraud_detection"

# Synthetic versions, above any real release tag of this repository.
OLD, NEW = "v99.0.0", "v99.1.0"  # the older version lacks some of the new one's changes
OLD_LAYOUT, MOVED = "v99.2.0", "v99.3.0"  # the newer version moves a file, with a migration

# The user's tuned model.params, in place of the template's `max_leaf_nodes: 31`
TUNED_PARAMS = "    max_leaf_nodes: 63\n    l2_regularization: 0.1\n"

# Lines Copier leaves where it could not merge; `=======` alone separates the two sides.
CONFLICT_MARKER = re.compile(rb"^(<<<<<<< |>>>>>>> |=======$)", re.MULTILINE)


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}"
    return result.stdout


def edit(path: Path, old: str, new: str) -> None:
    """Replace one exact piece of text; fail clearly when the template no longer has it."""
    text = path.read_text()
    assert text.count(old) == 1, (
        f"{path} no longer holds {old!r} exactly once: update the edits in tests/test_update.py"
    )
    path.write_text(text.replace(old, new))


def latest_release_with_changes() -> list[str]:
    """The newest semver release tag of this repository, if the template changed since it."""
    tags = git(REPO_ROOT, "tag", "--list", "v*", "--sort=-v:refname").split()
    releases = [tag for tag in tags if re.fullmatch(r"v\d+\.\d+\.\d+", tag)]
    if not releases:
        return []
    changed = subprocess.run(
        ["git", "diff", "--quiet", releases[0], "--", "copier.yml", "template", "hooks"],
        cwd=REPO_ROOT,
        check=False,
    )
    return releases[:1] if changed.returncode == 1 else []


# -- the template versions ----------------------------------------------------------------------


def copy_working_tree(clone: Path) -> None:
    """Make the clone's files those of this repository's working tree, uncommitted ones too."""
    listed = git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for relative in filter(None, listed.split("\0")):
        if "__pycache__" in relative:
            continue
        source, target = REPO_ROOT / relative, clone / relative
        if target.is_symlink() or target.is_file():
            target.unlink()
        if not source.is_symlink() and not source.exists():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)


def commit_and_tag(repo: Path, message: str, tag: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message)
    git(repo, "tag", tag)


def make_older(template: Path) -> None:
    """The older version: what a previous release of the template could have looked like.

    Only template-owned files differ, so every user edit below applies to both versions.
    """
    # the newer version added the runbook and a dependency, and dropped a page
    optuna = '    "optuna>=4.5,<6",  # the `tune` step\'s search\n'
    edit(template / "pyproject.toml.jinja", optuna, "")
    (template / "docs" / "runbook.md.jinja").unlink()
    (template / "docs" / "retired.md").write_text("# A page the newer version drops\n")
    # the newer version reworded the top of files the user also edits, far from the edits
    for name in ("conf/project.yml.jinja", "src/{{package_name}}/features/transactions.py"):
        path = template / name
        path.write_text(
            "# Older template wording, changed by the newer version.\n" + path.read_text()
        )
    # ... and lines of a file the user does not edit
    gitignore = template / ".gitignore"
    gitignore.write_text(gitignore.read_text() + "\n# cache of an older tool\n.older-cache/\n")
    # the newer version reworded the README's first paragraph (the conflict test edits it too)
    edit(
        template / "README.md.jinja",
        "\n{{ description }}\n",
        "\n{{ description }}, on Databricks.\n",
    )


def add_move_migration(repo: Path, old: str, new: str, version: str) -> None:
    """Declare in copier.yml that `version` moved a file from `old` to `new` (rendered paths)."""
    entry = (
        f'  - version: "{version.removeprefix("v")}"\n'
        "    when: \"{{ _stage == 'after' }}\"\n"
        '    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrate.py",\n'
        f'              "move", "{old}", "{new}"]\n'
    )
    copier_yml = repo / "copier.yml"
    lines = copier_yml.read_text().splitlines(keepends=True)
    start = lines.index("_migrations:\n")
    end = start + 1
    while lines[end].startswith("  #"):
        end += 1
    if lines[end] == "  []\n":  # no migration yet
        lines[end] = entry
    else:
        lines.insert(end, entry)
    copier_yml.write_text("".join(lines))
    assert yaml.safe_load(copier_yml.read_text())["_migrations"][-1]["version"] == version[1:]


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository holding the versions the tests update between, tagged."""
    repo = tmp_path_factory.mktemp("template") / "repo"
    git(REPO_ROOT.parent, "clone", "--quiet", str(REPO_ROOT), str(repo))
    copy_working_tree(repo)
    commit_and_tag(repo, "The template as it is on disk", NEW)
    git(repo, "checkout", "--quiet", "--detach", NEW)
    make_older(repo / "template")
    commit_and_tag(repo, "An older version", OLD)
    # a version that moves training/model.py, and the one before it with the file at src/<pkg>/
    git(repo, "checkout", "--quiet", "--detach", NEW)
    add_move_migration(
        repo,
        "src/{{ package_name }}/model.py",
        "src/{{ package_name }}/training/model.py",
        MOVED,
    )
    commit_and_tag(repo, "Move the model into training/", MOVED)
    package = repo / "template" / "src" / "{{package_name}}"
    moved = package / "training" / "model.py"
    (package / "model.py").write_text("# Older template wording.\n" + moved.read_text())
    moved.unlink()
    commit_and_tag(repo, "The model at its old path", OLD_LAYOUT)
    return repo


# -- the project, its user's edits, and the update ----------------------------------------------


def update(
    project: Path, version: str, conflict: str = "inline", quiet: bool = True, tasks: bool = False
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_update(
            dst_path=str(project),
            vcs_ref=version,
            defaults=True,
            overwrite=True,
            unsafe=True,
            skip_tasks=not tasks,
            conflict=conflict,
            quiet=quiet,
        )


def commit_everything(project: Path, message: str) -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--no-verify", "-m", message)


def user_edits(project: Path, model: str = f"src/{PACKAGE}/training/model.py") -> None:
    """What a data scientist does in the first weeks: all in files the user owns."""
    package = project / "src" / PACKAGE
    # a new feature: computed in features/, used by the model through conf/project.yml
    edit(
        package / "features" / "transactions.py",
        'IS_FOREIGN = "is_foreign"\n',
        'IS_FOREIGN = "is_foreign"\nIS_WEEKEND = "is_weekend"\n',
    )
    edit(
        package / "features" / "transactions.py",
        "        s.MERCHANT_CATEGORY,\n",
        "        s.MERCHANT_CATEGORY,\n"
        '        (F.dayofweek(s.EVENT_TS).isin(1, 7)).cast("int").alias(IS_WEEKEND),\n',
    )
    edit(
        project / "conf" / "project.yml",
        "    - is_foreign\n",
        "    - is_foreign\n    - is_weekend\n",
    )
    # configuration values: a stricter contract, a higher bar, and tuned estimator settings
    # (a `tune` proposal adopted: one value changed, one added)
    config = project / "conf" / "project.yml"
    edit(config, "max_reject_rate: 0.05", "max_reject_rate: 0.03")
    edit(config, "    roc_auc: 0.75\n", "    roc_auc: 0.8\n")
    edit(config, "    max_leaf_nodes: 31\n", TUNED_PARAMS)
    # the model itself
    edit(
        project / model,
        "ESTIMATOR = HistGradientBoostingClassifier()",
        'ESTIMATOR = HistGradientBoostingClassifier(class_weight="balanced")',
    )
    # files of their own, and a generated file they do not want
    test = project / "tests" / "unit" / "test_weekend_feature.py"
    test.write_text('"""A weekend payment gets is_weekend 1."""\n')
    (project / "notebooks").mkdir(exist_ok=True)  # beside the template's explore.py
    (project / "notebooks" / "exploration.py").write_text("# exploring the fraud patterns\n")
    (project / "docs" / "ci-cd-setup.md").unlink()


def tree(root: Path) -> dict[str, bytes]:
    """Every file below `root` (outside .git) with its contents."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def leftover_conflicts(project: Path) -> list[str]:
    """Files with conflict markers, unmerged paths and `.rej` files: what must not be left."""
    found = [
        f"conflict markers in {name}"
        for name, content in tree(project).items()
        if CONFLICT_MARKER.search(content)
    ]
    found += [f"unmerged: {line}" for line in git(project, "ls-files", "--unmerged").splitlines()]
    found += [f"rejected hunks: {p.relative_to(project)}" for p in project.rglob("*.rej")]
    return found


def assert_same_tree(actual: Path, expected: Path) -> None:
    got, wanted = tree(actual), tree(expected)
    assert sorted(got) == sorted(wanted), (
        f"only after the update: {sorted(set(got) - set(wanted))}; "
        f"only in the fresh render: {sorted(set(wanted) - set(got))}"
    )
    differing = [name for name in wanted if got[name] != wanted[name]]
    assert not differing, f"the update differs from a fresh render + the same edits in {differing}"


@dataclass
class Updated:
    project: Path
    before: dict[str, bytes]  # the project before the update, edited and committed
    expected: Path  # a fresh render of the new version, with the same user edits


@pytest.fixture
def updated_from(template_repo: Path, tmp_path: Path) -> Callable[[str], Updated]:
    """`updated_from(version)`: render it, commit, edit, commit, update to NEW."""

    def run(version: str) -> Updated:
        project = render(tmp_path / "project", ANSWERS, template_repo, version)
        git(project, "init", "--quiet", "--initial-branch=main")
        commit_everything(project, f"Generated from the template {version}")
        user_edits(project)
        commit_everything(project, "Our feature, model and thresholds")
        before = tree(project)
        update(project, NEW)
        expected = render(tmp_path / "expected", ANSWERS, template_repo, NEW)
        user_edits(expected)
        return Updated(project, before, expected)

    return run


# -- the tests ----------------------------------------------------------------------------------

UPDATE_SOURCES = ["older version", *(f"release {tag}" for tag in latest_release_with_changes())]


@pytest.mark.parametrize("source", UPDATE_SOURCES)
def test_update_keeps_user_edits_and_otherwise_equals_a_fresh_render(updated_from, source):
    version = OLD if source == "older version" else source.removeprefix("release ")
    result = updated_from(version)
    assert result.before != tree(result.expected), "the update had nothing to do"
    assert not leftover_conflicts(result.project)
    assert_same_tree(result.project, result.expected)
    recorded = yaml.safe_load((result.project / ".copier-answers.yml").read_text())
    assert recorded["_commit"] == NEW


def test_update_brings_template_changes_and_keeps_each_kind_of_user_edit(updated_from):
    project = updated_from(OLD).project
    config = (project / "conf" / "project.yml").read_text()
    assert "Older template wording" not in config, "the template's change reached the file"
    assert "max_reject_rate: 0.03" in config, "a configuration value kept"
    assert "    - is_weekend\n" in config, "a feature added to the model's inputs kept"
    params = yaml.safe_load(config)["model"]["params"]
    assert params == {"max_iter": 200, "learning_rate": 0.1, "max_leaf_nodes": 63} | {
        "l2_regularization": 0.1
    }, "the tuned parameters kept"
    features = (project / "src" / PACKAGE / "features" / "transactions.py").read_text()
    assert "Older template wording" not in features
    assert "alias(IS_WEEKEND)" in features, "feature code kept"
    model = (project / "src" / PACKAGE / "training" / "model.py").read_text()
    assert 'class_weight="balanced"' in model, "model change kept"
    assert (project / "docs" / "runbook.md").is_file(), "a file the new version adds arrives"
    assert not (project / "docs" / "retired.md").exists(), "a file the new version drops goes"
    assert ".older-cache/" not in (project / ".gitignore").read_text()
    assert (project / "notebooks" / "exploration.py").is_file(), "the user's own file is kept"
    assert not (project / "docs" / "ci-cd-setup.md").exists(), "a file the user deleted stays so"


def test_an_update_that_adds_a_dependency_leaves_a_matching_lock(
    template_repo, tmp_path, uv, monkeypatch
):
    """The task after `copier update` (hooks/relock.py) relocks: the new dependency is pinned,
    the pins the new constraints allow are kept, and `uv sync --locked` would install."""
    project = render(tmp_path / "project", ANSWERS, template_repo, OLD)
    monkeypatch.setenv("UV", uv)  # the uv the tasks run (as `uvx copier` sets it)
    first_commit = [sys.executable, str(REPO_ROOT / "hooks" / "init_git.py"), "main"]
    subprocess.run(first_commit, cwd=project, check=True, capture_output=True)
    before = (project / "uv.lock").read_text()
    assert 'name = "optuna"' not in before

    update(project, NEW, tasks=True)

    after = (project / "uv.lock").read_text()
    assert 'name = "optuna"' in after
    check = subprocess.run([uv, "lock", "--check"], cwd=project, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    pins = re.compile(r'^name = "(\S+)"\nversion = "(\S+)"', re.MULTILINE)
    kept = dict(pins.findall(before))
    assert {name: v for name, v in pins.findall(after) if name in kept} == kept


def test_conflict_is_left_marked_and_caught_by_the_project_checks(template_repo, tmp_path, capfd):
    """The user rewrote the README's first paragraph, which the new version also rewrote."""
    project = render(tmp_path / "project", ANSWERS, template_repo, OLD)
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_everything(project, "Generated")
    readme = project / "README.md"
    text = readme.read_text()
    intro = next(line for line in text.splitlines() if line.endswith(", on Databricks."))
    readme.write_text(text.replace(intro, "Scores card payments for the payments team."))
    commit_everything(project, "Our own introduction")
    capfd.readouterr()

    update(project, NEW, quiet=False)

    # Copier exits normally; its message after the update says how to find what is left
    said = capfd.readouterr().err
    assert 'Updated "Fraud Detection"' in said
    assert "conflict markers" in said
    assert "pre-commit run --all-files" in said
    leftovers = leftover_conflicts(project)
    assert "conflict markers in README.md" in leftovers
    assert any(item.startswith("unmerged: ") and item.endswith("\tREADME.md") for item in leftovers)
    merged = readme.read_text()
    assert "Scores card payments for the payments team." in merged, "the user's side is shown"
    assert "Card-transaction fraud detection on Spark, Delta Lake and MLflow\n" in merged
    assert "<<<<<<< before updating" in merged
    # the project's own check (pre-commit locally and in CI) fails on what is left
    git(project, "add", "--all")  # resolving "by accident": the markers are still there
    check = run_pre_commit(project, "check-merge-conflict")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "README.md" in check.stdout
    assert "Merge conflict string" in check.stdout


def test_rejected_hunks_are_caught_by_the_project_checks(template_repo, tmp_path):
    """With `--conflict rej` Copier writes `.rej` files instead; the check fails on them too."""
    project = render(tmp_path / "project", ANSWERS, template_repo, OLD)
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_everything(project, "Generated")
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace(", on Databricks.", " (our own wording)."))
    commit_everything(project, "Our own introduction")

    update(project, NEW, conflict="rej")

    assert (project / "README.md.rej").is_file()
    assert "rejected hunks: README.md.rej" in leftover_conflicts(project)
    git(project, "add", "--all")
    check = run_pre_commit(project, "no-rej-files")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "README.md.rej" in check.stdout


def test_a_moved_file_carries_the_user_edits_to_its_new_path(template_repo, tmp_path, capfd):
    old_path, new_path = f"src/{PACKAGE}/model.py", f"src/{PACKAGE}/training/model.py"
    project = render(tmp_path / "project", ANSWERS, template_repo, OLD_LAYOUT)
    assert (project / old_path).is_file()
    assert not (project / new_path).exists()
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_everything(project, "Generated")
    user_edits(project, model=old_path)
    commit_everything(project, "Our feature, model and thresholds")
    capfd.readouterr()

    update(project, MOVED)

    printed = capfd.readouterr().out
    assert f"{old_path} moved to {new_path}" in printed
    assert "your changes were carried over" in printed
    assert not (project / old_path).exists()
    assert not leftover_conflicts(project)
    expected = render(tmp_path / "expected", ANSWERS, template_repo, MOVED)
    user_edits(expected)
    assert_same_tree(project, expected)


def test_every_question_keeps_a_default():
    """Without one, re-rendering an older version during an update would stop and ask."""
    questions = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    missing = [
        name
        for name, spec in questions.items()
        if not name.startswith("_") and (not isinstance(spec, dict) or "default" not in spec)
    ]
    assert not missing, f"questions without a default: {missing}"


def run_pre_commit(project: Path, hook: str) -> subprocess.CompletedProcess[str]:
    """One hook of the project's own .pre-commit-config.yaml, on all its files."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", hook, "--all-files", "--color", "never"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
