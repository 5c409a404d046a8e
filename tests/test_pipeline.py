"""End to end: the real DVC pipeline (real papermill, real TensorFlow) on tiny synthetic data,
in a temporary copy of the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from facial_emotion.labels import EMOTIONS
from facial_emotion.native_log import without_native_log

REPO = Path(__file__).resolve().parents[1]
OUTPUTS = ("data/prepared", "models", "reports", "metrics", "runs", "dvc.lock")


def _project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [f for f in listed if not f.startswith(OUTPUTS) and (REPO / f).is_file()]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        PYTHONPATH=str(cwd / "src"),
        PATH=f"{Path(sys.executable).parent}:" + os.environ.get("PATH", ""),
    )
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with tiny settings, after one full ``dvc repro``."""
    root = tmp_path_factory.mktemp("project")
    for name in _project_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["data"]["synthetic_samples"] = 420
    params["train"].update(epochs=2, batch_size=32)
    params["export"]["representative_samples"] = 20
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for command in (["git", "init", "-q"], ["dvc", "config", "core.analytics", "false"]):
        assert _run(command, root).returncode == 0
    result = _run(["dvc", "repro"], root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root


def test_repro_writes_model_metrics_plots_and_reports(repo: Path) -> None:
    train = json.loads((repo / "metrics/train.json").read_text())
    assert train["architecture"] == "vgg_wide_late_flat" and train["epochs_run"] == 2
    history = pd.read_csv(repo / "reports/train/history.csv")  # the DVC plots' x axis
    assert list(history["epoch"]) == [1, 2]
    assert history.loc[history["val_accuracy"].idxmax(), "epoch"] == train["best_epoch"]
    evaluation = json.loads((repo / "metrics/eval.json").read_text())
    assert evaluation["split"] == "test" and 0 <= evaluation["accuracy"] <= 1
    assert "per_class" not in evaluation, "per-class figures are a plot, not 28 metrics"
    per_class = pd.read_csv(repo / "reports/evaluate/per_class.csv")
    assert per_class["class"].tolist() == list(EMOTIONS)
    assert per_class["support"].sum() == evaluation["samples"]
    assert {"precision", "recall", "f1"} <= set(per_class.columns)
    card = json.loads((repo / "models/model.json").read_text())
    assert card["classes"][0] == "angry" and (repo / "models/model.keras").stat().st_size > 0
    assert card["source"]["name"] == "synthetic" and card["source"]["format"] == "generated"
    confusion = (repo / "reports/evaluate/confusion.csv").read_text().splitlines()
    assert confusion[0] == "actual,predicted" and len(confusion) == 1 + evaluation["samples"]
    for report in ("explore", "train", "evaluate"):
        html = (repo / f"reports/{report}.html").read_text()
        assert "data:image/png" in html, f"{report}.html has no figures"
    assert (repo / "reports/figures/confusion_matrix.png").stat().st_size > 0


def test_second_repro_and_status_say_nothing_changed(repo: Path) -> None:
    status = _run(["dvc", "status"], repo)
    assert "up to date" in status.stdout, status.stdout
    again = _run(["dvc", "repro"], repo)
    assert again.returncode == 0 and "Running stage" not in again.stdout, again.stdout


def test_notebooks_run_by_hand_leave_the_pipelines_outputs_alone(repo: Path) -> None:
    """Run by hand, 02 replaced the pipeline's model: `dvc status` then asked for a second
    training, and `dvc commit` recorded settings in dvc.lock that had not made the model."""
    kept = ("models/model.keras", "metrics/eval.json", "reports/figures/confusion_matrix.png")
    published = {name: (repo / name).read_bytes() for name in kept}
    for notebook, given in (
        ("02_train", "train: {architecture: tiny, epochs: 1}"),
        ("03_evaluate", "evaluate: {tta_shift: 0}"),
    ):
        command = [
            "papermill",
            f"notebooks/{notebook}.ipynb",
            f"runs/{notebook}.ipynb",
            "-y",
            given,
        ]
        result = _run(command, repo)
        assert result.returncode == 0, result.stderr[-3000:]
    by_hand = repo / "runs/notebook"
    card = json.loads((by_hand / "models/model.json").read_text())
    assert card["train"]["architecture"] == "tiny"
    assert json.loads((by_hand / "metrics/eval.json").read_text())["tta_shift"] == 0
    assert (by_hand / "reports/figures/confusion_matrix.png").is_file()
    executed = nbformat.read(repo / "runs/03_evaluate.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for cell in executed.cells for o in cell.get("outputs", []))
    assert "scored runs/notebook/models/model.keras; outputs go to runs/notebook/" in printed
    for notebook in ("02_train", "03_evaluate"):  # TensorFlow's C++ log read as errors, in red
        executed = nbformat.read(repo / f"runs/{notebook}.ipynb", as_version=4)
        cells = [cell.get("outputs", []) for cell in executed.cells]
        red = "".join(o["text"] for outputs in cells for o in outputs if o.get("name") == "stderr")
        assert without_native_log(red) == red, red
    assert published == {name: (repo / name).read_bytes() for name in published}
    assert "up to date" in _run(["dvc", "status"], repo).stdout


def test_a_notebook_run_by_hand_scores_the_model_trained_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model trained by hand once was scored by every later 03_evaluate run by hand, after
    `dvc repro` had trained a newer one, with nothing to say how to get the pipeline's back."""
    from facial_emotion.stages import model_to_score

    monkeypatch.chdir(tmp_path)
    pipeline, by_hand = Path("models/model.keras"), Path("runs/notebook/models/model.keras")
    for age, model in ((100, by_hand), (0, pipeline)):
        model.parent.mkdir(parents=True)
        model.write_bytes(b"")
        os.utime(model, (1e9 - age, 1e9 - age))
    assert model_to_score(Path("runs/notebook")) == pipeline  # dvc repro trained since
    os.utime(by_hand, (2e9, 2e9))
    assert model_to_score(Path("runs/notebook")) == by_hand
    assert model_to_score(Path(".")) == pipeline
    # `dvc checkout` and `dvc exp apply` rewrite the pipeline's file: its card says when it was made
    for model, day in ((by_hand, 6), (pipeline, 5)):
        card = {"classes": ["happy", "sad"], "saved_at": f"2026-12-0{day}T10:00:00.000000+00:00"}
        model.with_suffix(".json").write_text(json.dumps(card))
    os.utime(pipeline, (3e9, 3e9))
    assert model_to_score(Path("runs/notebook")) == by_hand


def test_changed_data_makes_prepare_stale(repo: Path) -> None:
    """DVC hashes data.path, so new or edited data is prepared again, never silently skipped;
    a data set copied into data/raw/ is not data.path's default, and not hashed for it."""
    added = repo / "data/raw/fer2013/train/happy/new_face.png"
    added.parent.mkdir(parents=True)
    added.write_bytes(b"a file the user added")
    try:
        assert "up to date" in _run(["dvc", "status", "prepare"], repo).stdout
    finally:
        shutil.rmtree(repo / "data/raw/fer2013")
    marker = repo / "data/raw/README.md"
    original = marker.read_bytes()
    marker.write_bytes(original + b"edited\n")
    try:
        status = _run(["dvc", "status", "prepare"], repo).stdout
        assert "changed deps" in status and "data/raw/README.md" in status, status
    finally:
        marker.write_bytes(original)
    assert "up to date" in _run(["dvc", "status", "prepare"], repo).stdout


def test_metrics_and_plots_are_declared_to_dvc(repo: Path) -> None:
    shown = json.loads(_run(["dvc", "metrics", "show", "--json"], repo).stdout)
    files = next(iter(shown.values()))["data"]
    assert "accuracy" in files["metrics/eval.json"]["data"]
    assert "val_accuracy" in files["metrics/train.json"]["data"]
    plots = _run(["dvc", "plots", "show", "--json"], repo)
    assert plots.returncode == 0 and "confusion" in plots.stdout.lower(), plots.stderr
    drawn = json.loads(plots.stdout)["data"]
    for title in ("Recall per class", "F1 per class"):  # a bar per class, not 14 metrics
        (plot,) = drawn[title]
        assert plot["type"] == "vega" and plot["content"]["mark"]["type"] == "bar"
        # from zero: DVC's own bar template starts at the lowest value, whose bar is then empty
        assert plot["content"]["encoding"]["x"]["scale"]["domain"] == [0, 1]
    declared = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]["evaluate"]
    assert {"reports/evaluate/per_class.csv": {"cache": False}} in declared["outs"]
    assert all("per_class" not in str(metric) for metric in declared["metrics"])


def test_a_bad_value_stops_the_pipeline_before_any_output_is_removed(repo: Path) -> None:
    """DVC removes a stage's outputs before running it: an experiment with epochs 0 failed in
    train and left the last model's evaluation beside no model at all."""
    original = (repo / "params.yaml").read_text()
    params = yaml.safe_load(original)
    params["train"]["epochs"] = 0
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    before = {p: p.read_bytes() for p in (repo / "models").iterdir()}
    try:
        result = _run(["dvc", "repro"], repo)
        assert result.returncode != 0
        assert "error: params.yaml: train.epochs must be positive, got 0" in result.stderr
        assert "Running stage 'prepare'" not in result.stdout and "'train'" not in result.stdout
        assert {p: p.read_bytes() for p in (repo / "models").iterdir()} == before
        assert (repo / "metrics/train.json").is_file()
    finally:
        (repo / "params.yaml").write_text(original)
    assert "up to date" in _run(["dvc", "status"], repo).stdout


def test_notebook_opened_from_notebooks_folder_runs_as_in_jupyter(repo: Path) -> None:
    """'Run All' in Jupyter: the kernel starts in notebooks/, with no papermill parameters."""
    code = (
        "import nbformat; from nbclient import NotebookClient\n"
        "nb = nbformat.read('01_explore.ipynb', as_version=4)\n"
        "NotebookClient(nb, kernel_name='python3').execute()\n"
        "outputs = [o for c in nb.cells for o in c.get('outputs', [])]\n"
        "print(sum(o.get('output_type') == 'display_data' for o in outputs))"
    )
    result = _run([sys.executable, "-c", code], repo / "notebooks")
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) >= 3, "figures are shown"
