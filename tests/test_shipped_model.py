"""The FER2013 model that ships with the package: used when no --model is given."""

import json
import re
import shlex
from pathlib import Path

import numpy as np

from facial_emotion.backends import load_backend
from facial_emotion.cli import main
from facial_emotion.config import load_params, with_overrides
from facial_emotion.export import tensor_record
from facial_emotion.labels import EMOTIONS
from facial_emotion.modelfile import train_settings
from facial_emotion.predict import EmotionRecognizer, default_model_path, default_serving_path
from facial_emotion.tflite_card import embedded_card


def test_shipped_model_is_the_trained_fer2013_model_with_its_card() -> None:
    path = default_model_path()
    assert path.stat().st_size < 20 * 2**20, "package data stays under 20 MB"
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["classes"] == list(EMOTIONS)
    assert card["source"]["name"] == "fer2013" and card["metrics"]["val_accuracy"] > 0.65
    assert path.with_suffix(".md").is_file(), "a model card for people sits beside it"
    probs = load_backend(path).predict(np.full((2, 48, 48, 1), 128, np.float32))
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_photos_and_video_run_the_shipped_int8_export_with_its_measured_parity() -> None:
    path = default_serving_path()
    assert path.name == "fer2013.int8.tflite" and EmotionRecognizer().model_path == path
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["classes"] == list(EMOTIONS)
    parity = card["parity"]
    assert parity["keras_model"] == default_model_path().name
    assert parity["split"] == "val" and parity["faces"] == 3589, "measured on all of PublicTest"
    assert parity["agreement"] >= 0.99 and abs(parity["accuracy_change"]) <= 0.01
    # what a device developer feeds without the package, as the file itself declares it
    assert card["tensors"] == tensor_record(load_backend(path))
    # and the file handed over alone names its classes: the Keras model's card is inside it
    inside = embedded_card(path.read_bytes(), path)
    assert inside == json.loads(default_model_path().with_suffix(".json").read_text())


def test_predict_without_model_uses_the_shipped_one(tmp_path, capsys) -> None:
    import cv2

    face = tmp_path / "face.png"
    cv2.imwrite(str(face), np.random.default_rng(0).integers(0, 255, (48, 48), np.uint8))
    assert main(["predict", str(face), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["classes"] == list(EMOTIONS)
    assert result["images"][0]["faces"][0]["emotion"] in EMOTIONS


def readme_recipe() -> list[str]:
    """The ``-S`` values of the README's one-command FER2013 recipe."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    command = re.search(r"dvc exp run -n fer2013 (?:.*\\\n)*.*", readme)
    assert command, "README shows the FER2013 recipe as `dvc exp run -n fer2013 ...`"
    words = shlex.split(command.group(0).replace("\\\n", " "))
    return [words[i + 1] for i, word in enumerate(words) if word == "-S"]


def test_readme_recipe_is_the_one_that_trained_the_shipped_model() -> None:
    repo = Path(__file__).parents[1]
    recipe = with_overrides(load_params(repo / "params.yaml"), readme_recipe())
    assert recipe.data.source == "fer2013"
    assert recipe.train == train_settings(default_model_path())
    card = json.loads(default_model_path().with_suffix(".json").read_text())
    assert recipe.seed == card["seed"], "an ensemble's members are seeded seed, seed+1, ..."
