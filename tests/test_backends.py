"""Keras and TensorFlow Lite models behind one ``predict``: same answers, clear errors."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from facial_emotion import backends
from facial_emotion.backends import TFLiteBackend, load_backend
from facial_emotion.errors import FacialEmotionError
from facial_emotion.export import tflite_bytes


@pytest.fixture(scope="module")
def lite_paths(tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """float32 and int8 conversions of the tiny model, each beside a copy of its card."""
    keras_model = load_backend(tiny_model_path)
    folder = tmp_path_factory.mktemp("lite")
    calibration = np.random.default_rng(2).integers(0, 256, (20, 48, 48), dtype=np.uint8)
    paths = {"float32": folder / "model.tflite", "int8": folder / "model.int8.tflite"}
    paths["float32"].write_bytes(tflite_bytes(keras_model.model))
    paths["int8"].write_bytes(tflite_bytes(keras_model.model, calibration))
    for path in paths.values():
        path.with_suffix(".json").write_text(tiny_model_path.with_suffix(".json").read_text())
    return paths


@pytest.fixture
def faces(rng: np.random.Generator) -> np.ndarray:
    # More than one interpreter batch, so batching and the short last batch are both exercised.
    return rng.integers(0, 256, (backends.TFLITE_BATCH + 6, 48, 48, 1)).astype(np.float32)


def test_float32_tflite_matches_keras_in_batches_and_one_by_one(
    tiny_model_path: Path, lite_paths: dict[str, Path], faces: np.ndarray
) -> None:
    expected = load_backend(tiny_model_path, precision="float32").predict(faces)
    lite = load_backend(lite_paths["float32"])
    batched = lite.predict(faces)
    one_by_one = np.concatenate([lite.predict(face[None]) for face in faces[:5]])
    np.testing.assert_allclose(batched, expected, atol=1e-5)
    np.testing.assert_allclose(one_by_one, batched[:5], atol=1e-6)
    assert lite.card["classes"][0] == "angry"


def test_int8_tflite_takes_raw_pixels_and_returns_probabilities(
    tiny_model_path: Path, lite_paths: dict[str, Path], faces: np.ndarray
) -> None:
    lite = load_backend(lite_paths["int8"])
    assert lite.input["dtype"] == lite.output["dtype"] == np.uint8  # a face's bytes as they are
    probs = lite.predict(faces)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-6)  # as a softmax's, despite int8 steps
    np.testing.assert_allclose(probs, load_backend(tiny_model_path).predict(faces), atol=0.05)


def test_bfloat16_keras_serving_keeps_the_saved_float32_model_and_its_answers(
    tiny_model_path: Path, faces: np.ndarray
) -> None:
    exact = load_backend(tiny_model_path, precision="float32")
    fast = load_backend(tiny_model_path, precision="mixed_bfloat16")
    assert fast.runner.layers[1].compute_dtype == "bfloat16"
    assert fast.model.layers[1].compute_dtype == "float32", "export and evaluation read this one"
    probs = fast.predict(faces)
    assert probs.dtype == np.float32
    np.testing.assert_allclose(probs, exact.predict(faces), atol=0.01)


def test_empty_input_gives_empty_probabilities(
    tiny_model_path: Path, lite_paths: dict[str, Path]
) -> None:
    for path in (tiny_model_path, lite_paths["float32"]):
        assert load_backend(path).predict(np.zeros((0, 48, 48, 1))).shape == (0, 7)


def test_checks_bytes_before_they_are_written(lite_paths: dict[str, Path]) -> None:
    card = {"classes": list("abcdefg")}
    lite = TFLiteBackend(Path("unwritten.tflite"), lite_paths["float32"].read_bytes(), card)
    assert lite.card is card and lite.predict(np.zeros((2, 48, 48, 1))).shape == (2, 7)


def test_tensorflow_interpreter_serves_when_litert_is_absent(
    lite_paths: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.warns(UserWarning, match="tf.lite.Interpreter is deprecated"):  # TensorFlow's
        lite = load_backend(lite_paths["float32"])
    assert type(lite.interpreter).__module__.startswith("tensorflow")
    assert lite.predict(np.zeros((3, 48, 48, 1))).shape == (3, 7)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("model.tflite", b"\x00not a flatbuffer" * 40, "not a valid TensorFlow Lite model"),
        ("model.keras", b"PK\x03\x04 not a zip" * 40, "cannot be loaded as a Keras model"),
        ("model.tflite", b"", "model file is empty"),
        ("model.onnx", b"something", "unknown model format"),
    ],
)
def test_bad_files_raise_one_clear_line(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FacialEmotionError) as info:
        load_backend(path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("form", ["float32", "int8"])
def test_a_model_copied_without_its_card_is_refused_not_given_fer2013_names(
    lite_paths: dict[str, Path], tmp_path: Path, form: str
) -> None:
    # A CK+ model has 7 outputs too, in another order: guessing FER2013's would misname them.
    copy = tmp_path / "model.tflite"
    copy.write_bytes(lite_paths[form].read_bytes())
    with pytest.raises(FacialEmotionError) as info:
        load_backend(copy)
    assert str(info.value).startswith(f"{copy}: no card model.json beside it")
    assert "\n" not in str(info.value)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FacialEmotionError, match="model.tflite: model not found"):
        load_backend(tmp_path / "model.tflite")


def test_loading_a_tflite_model_prints_no_xnnpack_notice(lite_paths: dict[str, Path]) -> None:
    # LiteRT prints its notice once per process, so only a fresh process shows it.
    code = "import sys; from facial_emotion.backends import load_backend; load_backend(sys.argv[1])"
    run = subprocess.run(
        [sys.executable, "-c", code, str(lite_paths["int8"])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "XNNPACK" not in run.stderr


@pytest.mark.parametrize("form", ["float32", "int8"])
def test_one_tflite_model_serves_two_threads_at_once(
    lite_paths: dict[str, Path], rng: np.random.Generator, form: str
) -> None:
    """As a web server's thread pool calls it: no errors, and no thread gets another's answer."""
    lite = load_backend(lite_paths[form])
    batches = [rng.integers(0, 256, (n, 48, 48, 1)).astype(np.float32) for n in (1, 1, 5, 3)]
    expected = [lite.predict(batch) for batch in batches]

    def check(offset: int) -> None:
        for round_ in range(150):
            i = (round_ + offset) % len(batches)
            np.testing.assert_array_equal(lite.predict(batches[i]), expected[i])

    with ThreadPoolExecutor(2) as pool:
        for result in [pool.submit(check, offset) for offset in (0, 1)]:
            result.result()


def test_a_model_holding_python_code_is_refused(tmp_path: Path) -> None:
    """A Lambda layer is Python code that Keras would run where a loader let it: a model file
    is then a program, and an error message should say so, not "save it again"."""
    import keras

    from facial_emotion.labels import EMOTIONS
    from facial_emotion.modelfile import save_keras

    inputs = keras.Input((48, 48, 1))
    flat = keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 1.0)(inputs))
    outputs = keras.layers.Dense(len(EMOTIONS), activation="softmax")(flat)
    path = tmp_path / "lambda.keras"
    save_keras(keras.Model(inputs, outputs), path, EMOTIONS)
    with pytest.raises(FacialEmotionError, match=r"lambda.keras: holds Python code \(a Lambda"):
        load_backend(path)


def test_a_legacy_hdf5_model_is_refused(tmp_path: Path) -> None:
    """Keras ignores safe_mode for .h5 files up to 3.11.2: their Lambda code ran on load."""
    legacy = tmp_path / "model.h5"
    legacy.write_bytes(b"\x89HDF\r\n\x1a\n")
    with pytest.raises(FacialEmotionError, match="legacy HDF5 Keras models are not read"):
        load_backend(legacy)
