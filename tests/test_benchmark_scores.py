"""benchmarks/scores.py: what a score means, and what each --min-confidence keeps."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import class_tree

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_scores_say_how_many_faces_each_min_confidence_keeps_and_how_often_right(
    monkeypatch: pytest.MonkeyPatch, load_benchmark
) -> None:
    """An app choosing ``--min-confidence`` needs the coverage it costs, not only the table."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports scoring_cli beside it
    scores = load_benchmark("scores")
    probs = np.array([[0.95, 0.05], [0.55, 0.45], [0.35, 0.65], [0.2, 0.8]])
    truth = np.array([0, 1, 1, 0])
    rows = {r["min_confidence"]: r for r in scores.coverage(probs, truth, ("a", "b"))}
    assert rows[0.5] == {
        "min_confidence": 0.5,
        "kept": 1.0,
        "right_of_kept": 0.5,
        "kept_per_class": {"a": 1.0, "b": 1.0},
    }
    assert rows[0.7]["kept"] == 0.5 and rows[0.7]["right_of_kept"] == 0.5
    assert rows[0.9] == {
        "min_confidence": 0.9,
        "kept": 0.25,
        "right_of_kept": 1.0,
        "kept_per_class": {"a": 0.5, "b": 0.0},
    }


def test_a_split_with_no_face_to_read_is_one_error_line_and_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    load_benchmark,
    tiny_model_path: Path,
) -> None:
    """Flat images are left out as ``predict`` refuses them; with none left, scikit-learn's
    accuracy of no faces ended the benchmark in a ValueError traceback."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports scoring_cli beside it
    scores = load_benchmark("scores")
    data = class_tree(tmp_path / "flat" / "train", {"happy": 1, "sad": 1}).parent
    class_tree(data / "val", {"happy": 2, "sad": 2})
    argv = ["scores.py", "--model", str(tiny_model_path), "--data", str(data)]
    monkeypatch.setattr(sys, "argv", argv)

    assert scores.main() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{data}: its val split has no face to read" in err and "pass --data" in err
