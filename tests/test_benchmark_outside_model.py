"""benchmarks/outside_model.py: an outside Keras model read in its own class order and scaling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import class_tree, level

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# the data's classes in folder order: their faces are flat at levels 20, 50, 80, 110
DATA_CLASSES = {"angry": 3, "happy": 2, "sad": 4, "fear": 1}
# the outside model's outputs, in an order of its own; it has no "fear"
OUTSIDE_CLASSES = ("sad", "angry", "happy")


def nearest_level_model(path: Path) -> Path:
    """A Keras model reading the class whose face level (scaled to -1..1) is nearest its 8x8
    input's mean: logits 2 c m - c^2 rank classes as -(m - c)^2 does."""
    import keras

    codes = list(DATA_CLASSES)
    centres = np.array([(level(codes.index(c)) / 255 - 0.5) * 2 for c in OUTSIDE_CLASSES])
    inputs = keras.Input((8, 8, 1))
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    dense = keras.layers.Dense(len(centres), activation="softmax")
    model = keras.Model(inputs, dense(mean))
    dense.set_weights([20 * centres[None, :], -10 * centres**2])
    model.save(path)
    return path


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch, load_benchmark):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports scoring_cli beside it
    return load_benchmark("outside_model")


def test_scores_in_the_models_class_order_and_scaling(
    tmp_path: Path, capsys, outside, tiny_model_path: Path
) -> None:
    data = tmp_path / "fer2013"
    class_tree(data / "train", {name: 1 for name in DATA_CLASSES})
    class_tree(data / "val", DATA_CLASSES)
    model = nearest_level_model(tmp_path / "outside.keras")
    args = [str(model), "--data", str(data), "--ours", str(tiny_model_path)]

    assert outside.main([*args, "--classes", ",".join(OUTSIDE_CLASSES)]) == 0
    result = json.loads(capsys.readouterr().out)

    assert result["faces"] == 9  # the fear face is left out: the model has no such class
    assert result["accuracy"] == 1.0 and result["macro_f1"] == 1.0
    assert result["recall"] == {"sad": 1.0, "angry": 1.0, "happy": 1.0}
    assert result["input"] == {"size": 8, "scale": "-1..1", "classes": list(OUTSIDE_CLASSES)}
    assert result["model"] == "outside.keras" and len(result["sha256"]) == 64  # not a tmp path
    right = result["ours"]["accuracy"] * 9
    only = result["mcnemar"]["only_this_right"] - result["mcnemar"]["only_ours_right"]
    assert round(right) + only == 9  # ours plus the faces only this one reads is all of them

    assert outside.main([*args, "--classes", ",".join(OUTSIDE_CLASSES), "--scale", "0..1"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] < 1.0  # the wrong scaling shows


@pytest.mark.parametrize("content", [None, b"not a Keras model"], ids=["missing", "unreadable"])
def test_a_model_it_cannot_load_is_one_line_naming_the_file(
    tmp_path: Path, capsys, outside, content: bytes | None
) -> None:
    model = tmp_path / "emotion_model.hdf5"
    if content is not None:
        model.write_bytes(content)

    assert outside.main([str(model), "--data", str(tmp_path)]) == 2

    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {model}: ") and "\n" not in error
    assert ("not found" if content is None else "cannot load it") in error


def test_a_legacy_h5_with_code_in_it_is_refused_not_run(tmp_path: Path, capsys, outside) -> None:
    """The package refuses .h5 files, as Keras cannot check them for code run on load; this script
    reads them (fer's model is one) only in Keras's safe mode, which refuses a Lambda layer."""
    import keras

    inputs = keras.Input((8, 8, 1))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Lambda(lambda x: x * 2)(inputs))
    model = tmp_path / "with_lambda.h5"
    keras.Model(inputs, keras.layers.Dense(7)(pooled)).save(model)

    assert outside.main([str(model), "--data", str(tmp_path)]) == 2

    assert "`Lambda` layer" in capsys.readouterr().err


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 1, 1)], ids=["no channel", "3-d"])
def test_a_model_of_another_input_rank_is_one_line(
    tmp_path: Path, capsys, outside, shape: tuple[int, ...]
) -> None:
    """A model taking (height, width) faces ended the run in a traceback of the unpacking."""
    import keras

    inputs = keras.Input(shape)
    model = tmp_path / "flat.keras"
    keras.Model(inputs, keras.layers.Dense(7)(keras.layers.Flatten()(inputs))).save(model)

    assert outside.main([str(model), "--data", str(tmp_path)]) == 2

    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {model}: takes input (None, {', '.join(map(str, shape))})")
    assert "one (height, width, 1) grayscale input" in error and "\n" not in error
