"""A venv or model under a folder with a non-ASCII name (C:\\Users\\José) works on Windows.

OpenCV opens a cascade's file name, and LiteRT a model's, with the C library's narrow calls
(``fopen``), which on Windows read the name's UTF-8 bytes in the ANSI code page: such a name is
not found. Linux reads the bytes as UTF-8, so that behaviour is emulated here: a name that is not
ASCII finds nothing, as it does there. Python's own file calls take any name on every system."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from facial_emotion.errors import FacialEmotionError


def _windows_narrow_names(monkeypatch: pytest.MonkeyPatch) -> None:
    real_cascade = cv2.CascadeClassifier

    def cascade(*args):
        if args and isinstance(args[0], str) and not args[0].isascii():
            return real_cascade()  # nothing read: Windows' fopen found no such file
        return real_cascade(*args)

    monkeypatch.setattr(cv2, "CascadeClassifier", cascade)

    import ai_edge_litert.interpreter as litert

    real_interpreter = litert.Interpreter

    def interpreter(model_path=None, *args, **kwargs):
        if model_path is not None and not str(model_path).isascii():
            raise ValueError(f"Could not open '{model_path}'.")  # LiteRT's words for it
        return real_interpreter(model_path, *args, **kwargs)

    monkeypatch.setattr(litert, "Interpreter", interpreter)


def test_the_haar_cascade_loads_from_a_folder_with_an_accent(monkeypatch, tmp_path: Path) -> None:
    from facial_emotion.faces import HaarDetector

    venv = tmp_path / "José" / "cv2_data"
    venv.mkdir(parents=True)
    name = "haarcascade_frontalface_alt2.xml"
    shutil.copy(cv2.data.haarcascades + name, venv / name)
    monkeypatch.setattr(cv2.data, "haarcascades", str(venv) + "/")
    _windows_narrow_names(monkeypatch)
    detector = HaarDetector()  # raised "OpenCV's Haar cascade is missing; reinstall ..."
    assert detector.boxes(np.full((100, 100), 128, np.uint8)) == []


def test_a_missing_cascade_is_still_reported(monkeypatch, tmp_path: Path) -> None:
    from facial_emotion.faces import HaarDetector

    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path) + "/")
    with pytest.raises(FacialEmotionError, match="Haar cascade is missing"):
        HaarDetector()


def test_a_tflite_model_loads_from_a_folder_with_an_accent(monkeypatch, tmp_path: Path) -> None:
    from facial_emotion.backends import load_backend
    from facial_emotion.predict import default_serving_path

    shipped = default_serving_path()
    assert shipped.suffix == ".tflite"
    folder = tmp_path / "José"
    folder.mkdir()
    model = folder / shipped.name
    shutil.copy(shipped, model)
    shutil.copy(shipped.with_suffix(".json"), model.with_suffix(".json"))
    _windows_narrow_names(monkeypatch)
    backend = load_backend(model)  # "not a valid TensorFlow Lite model (ValueError); re-export"
    probs = backend.predict(np.zeros((1, 48, 48, 1), np.float32))
    assert probs.shape == (1, len(backend.card["classes"]))
