"""`dvc exp run -S` as a user comparing runs types it: a value no stage can run is stopped by the
check stage before DVC removes any output, and every params group a stage's code reads is one DVC
tracks for it, or `-S` of it would leave the stage "up to date" with outputs of the old value."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest
import yaml
from test_pipeline import _project_files, _run

REPO = Path(__file__).resolve().parents[1]
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
GROUPS = set(yaml.safe_load((REPO / "params.yaml").read_text()))
# the stage functions the train and evaluate notebooks call with the whole params
STAGE_FUNCTIONS = {"train": "run_train", "evaluate": "run_evaluate"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's files in a fresh Git repository, with no outputs yet."""
    for name in _project_files():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, tmp_path / name)
    for command in (["git", "init", "-q"], ["dvc", "config", "core.analytics", "false"]):
        assert _run(command, tmp_path).returncode == 0
    return tmp_path


def test_too_few_synthetic_faces_stop_at_the_check_stage(project: Path) -> None:
    """`-S data.synthetic_samples=5` passed the check, then prepare, with the prepared data
    removed, stopped on "None: the 'val' split has no samples" and advice to add images (6: "no
    training faces of sad, surprise, neutral (only in )")."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["synthetic_samples"] = 5
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = _run(["dvc", "repro"], project)
    assert result.returncode != 0
    assert "Running stage 'prepare'" not in result.stdout, result.stdout[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: params.yaml: data.synthetic_samples 5 draws too few faces: train 5 (needs 7, "
        "a face of each class), val 0 (needs 1); set it to at least 9 "
        "(dvc exp run -S data.synthetic_samples=9)"
    ], result.stderr[-2000:]
    params["data"]["synthetic_samples"] = 9  # the count the message gives is enough
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = _run(["dvc", "repro", "prepare"], project)
    assert result.returncode == 0, result.stderr[-2000:]
    counts = json.loads((project / "data/prepared/manifest.json").read_text())["counts"]
    assert {split: sum(faces.values()) for split, faces in counts.items()} == {
        "train": 7,
        "val": 1,
        "test": 1,
    }


def _groups_read(source: str) -> set[str]:
    """The params groups ``source`` reads as ``params.<group>``."""
    return {
        node.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "params"
        and node.attr in GROUPS
    }


def _stage_sources(stage: str) -> list[str]:
    spec = STAGES[stage]
    sources = []
    for notebook in (d for d in spec["deps"] if d.endswith(".ipynb")):
        cells = json.loads((REPO / notebook).read_text())["cells"]
        sources += ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    if stage in STAGE_FUNCTIONS:
        module = ast.parse((REPO / "src/facial_emotion/stages.py").read_text())
        (function,) = [
            node
            for node in module.body
            if isinstance(node, ast.FunctionDef) and node.name == STAGE_FUNCTIONS[stage]
        ]
        sources.append(ast.unparse(function))
    return sources


@pytest.mark.parametrize("stage", ["explore", "train", "evaluate"])
def test_a_notebook_stage_tracks_every_params_group_it_reads(stage: str) -> None:
    """The notebooks read the whole params file, not only the groups papermill injects: a group
    read but not listed under the stage's params leaves it "up to date" after `-S` of it. The
    data settings reach a stage through data/prepared, which prepare re-makes when they change."""
    spec = STAGES[stage]
    read = set().union(*(_groups_read(source) for source in _stage_sources(stage)))
    assert read, f"{stage}: no params.<group> read found; has the notebook changed its names?"
    tracked = set(spec["params"]) | ({"data"} if "data/prepared" in spec["deps"] else set())
    assert read <= tracked, f"dvc.yaml stage {stage!r} reads {sorted(read - tracked)} untracked"
    # and the parameters cell, whose groups papermill fills from the file, names only those
    cells = json.loads((REPO / spec["deps"][0]).read_text())["cells"]
    (cell,) = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    declared = {
        target.id
        for node in ast.parse("".join(cell["source"])).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in GROUPS
    }
    assert declared <= set(spec["params"]), f"{stage}: the notebook takes {declared}"
