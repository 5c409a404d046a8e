"""benchmarks/unseen.py: a split's faces in groups by whether training holds a copy of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_fixtures import pattern, write_image

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_finds_the_val_faces_copied_from_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, load_benchmark, tiny_model_path: Path
) -> None:
    """Scoring decodes only the split it scores, so ``data.splits["train"]`` was gone: the
    benchmark ended in a KeyError traceback."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports scoring_cli beside it
    unseen = load_benchmark("unseen")
    data = tmp_path / "fer2013"
    for k, label in enumerate(("happy", "happy", "sad", "sad")):
        write_image(data / "train" / label / f"{k}.png", pattern(k))
    write_image(data / "val" / "happy" / "copy.png", pattern(0))  # a training face
    write_image(data / "val" / "sad" / "new.png", pattern(9))

    result = unseen.score_unseen(tiny_model_path, str(data), "val")

    assert result["faces"] == {"all": 2, "unseen": 1, "identical": 1, "near_copy": 0}
