"""The FER2013 model that ships with the package: used when no --model is given."""

import json

import numpy as np

from facial_emotion.backends import load_backend
from facial_emotion.cli import main
from facial_emotion.labels import EMOTIONS
from facial_emotion.predict import default_model_path


def test_shipped_model_is_the_trained_fer2013_model_with_its_card() -> None:
    path = default_model_path()
    assert path.stat().st_size < 20 * 2**20, "package data stays under 20 MB"
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["classes"] == list(EMOTIONS)
    assert card["source"]["name"] == "fer2013" and card["metrics"]["val_accuracy"] > 0.6
    assert path.with_suffix(".md").is_file(), "a model card for people sits beside it"
    probs = load_backend(path).predict(np.full((2, 48, 48, 1), 128, np.float32))
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_predict_without_model_uses_the_shipped_one(tmp_path, capsys) -> None:
    import cv2

    face = tmp_path / "face.png"
    cv2.imwrite(str(face), np.random.default_rng(0).integers(0, 255, (48, 48), np.uint8))
    assert main(["predict", str(face), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["classes"] == list(EMOTIONS)
    assert result["images"][0]["faces"][0]["emotion"] in EMOTIONS
