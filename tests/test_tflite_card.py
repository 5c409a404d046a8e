"""The card inside an exported ``.tflite``: a model handed over alone still names its classes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from facial_emotion import export as export_module
from facial_emotion.backends import load_backend
from facial_emotion.data.prepared import LabelledImages, PreparedData, save
from facial_emotion.errors import FacialEmotionError
from facial_emotion.export import tflite_bytes
from facial_emotion.tflite_card import CARD_METADATA, embedded_card, with_card

CKPLUS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "contempt"]


@pytest.fixture(scope="module")
def ckplus_export(ckplus_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CK+ model exported by the pipeline's own export, then handed over without its card."""
    rng = np.random.default_rng(0)
    splits = {
        name: LabelledImages(rng.integers(0, 256, (n, 48, 48), dtype=np.uint8), np.arange(n) % 7)
        for name, n in (("train", 30), ("val", 14), ("test", 14))
    }
    folder = tmp_path_factory.mktemp("ckplus_export")
    save(PreparedData(tuple(CKPLUS), splits, source={"name": "ckplus"}), folder / "prepared")
    models = folder / "models"
    models.mkdir()
    for source in (ckplus_model_path, ckplus_model_path.with_suffix(".json")):
        (models / source.name).write_bytes(source.read_bytes())
    export_module.export(
        models / "ckplus.keras",
        folder / "prepared",
        folder / "out",
        folder / "export.json",
        representative_samples=20,
        log=lambda _: None,
    )
    handed_over = folder / "device"
    handed_over.mkdir()
    for name in ("ckplus.tflite", "ckplus.int8.tflite"):
        (handed_over / name).write_bytes((folder / "out" / name).read_bytes())
    return handed_over


@pytest.mark.parametrize("name", ["ckplus.tflite", "ckplus.int8.tflite"])
def test_an_export_without_its_card_still_names_its_classes(ckplus_export: Path, name: str) -> None:
    model = ckplus_export / name
    assert not model.with_suffix(".json").exists()
    backend = load_backend(model)
    assert backend.card["classes"] == CKPLUS  # not FER2013's order, and no error
    assert embedded_card(model.read_bytes(), model)["architecture"] == "tiny"  # the whole card


def test_a_card_beside_the_model_naming_other_classes_is_refused(ckplus_export: Path) -> None:
    model = ckplus_export / "ckplus.tflite"
    card = model.with_suffix(".json")
    card.write_text(json.dumps({"classes": [*CKPLUS[:6], "neutral"]}))
    try:
        with pytest.raises(FacialEmotionError) as info:
            load_backend(model)
    finally:
        card.unlink()
    message = str(info.value)
    assert message.startswith(f"{card}: names the classes") and "contempt" in message
    assert "\n" not in message


def test_the_card_changes_no_answer_and_replaces_an_earlier_one(tiny_model_path: Path) -> None:
    keras_model = load_backend(tiny_model_path)
    plain = tflite_bytes(keras_model.model)
    first = with_card(plain, {"classes": ["a"]})
    second = with_card(first, {"classes": CKPLUS})
    assert embedded_card(plain, Path("plain.tflite")) is None
    assert embedded_card(second, Path("second.tflite")) == {"classes": CKPLUS}
    assert second.count(CARD_METADATA.encode()) == 1
    from ai_edge_litert.interpreter import Interpreter

    faces = np.random.default_rng(1).integers(0, 256, (5, 48, 48, 1)).astype(np.float32)
    answers = []
    for content in (plain, second):
        interpreter = Interpreter(model_content=content)
        interpreter.resize_tensor_input(0, faces.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], faces)
        interpreter.invoke()
        answers.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
    np.testing.assert_array_equal(answers[0], answers[1])


def test_an_embedded_card_that_is_not_json_is_one_clear_line(tiny_model_path: Path) -> None:
    content = with_card(tflite_bytes(load_backend(tiny_model_path).model), {"classes": ["x"]})
    broken = content.replace(b'{"classes": ["x"]}', b'{"classes": ["x"}}')
    with pytest.raises(FacialEmotionError, match=r"^m.tflite: its embedded card .* re-export"):
        embedded_card(broken, Path("m.tflite"))


def test_the_standalone_example_names_a_lone_exports_classes(
    ckplus_export: Path, tmp_path: Path
) -> None:
    """The device recipe reads the classes from the file: it assumed FER2013's order before."""
    face = tmp_path / "face.png"
    cv2.imwrite(str(face), np.linspace(0, 255, 48 * 48).reshape(48, 48).astype(np.uint8))
    example = Path(__file__).resolve().parents[1] / "examples" / "litert_standalone.py"
    run = subprocess.run(
        [sys.executable, str(example), str(ckplus_export / "ckplus.int8.tflite"), str(face)],
        capture_output=True,
        text=True,
        check=True,
    )
    (read,) = json.loads(run.stdout)["faces"]  # a small gray picture is read whole
    assert list(read["probabilities"]) == CKPLUS
