"""The web app: what it shows for a picture, and a real browser driving the real server.

The browser test needs Debian's Chromium (``apt-get install -y chromium chromium-driver``) and skips
without it; it never downloads a browser and blocks every host but this machine.
"""

from __future__ import annotations

import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import matplotlib.cbook
import numpy as np
import pytest

from facial_emotion.app import analyse, annotate, build_app
from facial_emotion.backends import load_backend
from facial_emotion.errors import FacialEmotionError

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@dataclass
class Face:
    box: tuple[int, int, int, int]
    emotion: str
    score: float
    probabilities: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CentreRecognizer:
    """Stands in for ``EmotionRecognizer``: the tiny model reads a box at the picture's centre."""

    def __init__(self, model_path: Path, faces: int = 1) -> None:
        self.backend = load_backend(model_path)
        self.faces = faces

    def detect(self, image: np.ndarray) -> list[Face]:
        from PIL import Image

        h, w = image.shape[:2]
        side = min(h, w) // 3
        found = []
        for n in range(self.faces):
            x, y = w // 2 - side // 2 + n * side // 2, h // 3 - side // 2
            crop = Image.fromarray(image[y : y + side, x : x + side]).convert("L").resize((48, 48))
            probs = self.backend.predict(np.asarray(crop, np.float32)[None, ..., None])[0]
            classes = self.backend.card["classes"]
            best = int(probs.argmax())
            found.append(
                Face((x, y, side, side - n), classes[best], float(probs[best]),
                     {c: float(p) for c, p in zip(classes, probs, strict=True)})
            )  # fmt: skip
        return found


class NoFaces:
    def detect(self, image: np.ndarray) -> list[Face]:
        return []


@pytest.fixture
def photo() -> np.ndarray:
    """A real photograph of a face that matplotlib ships (Grace Hopper), as RGB."""
    from PIL import Image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        return np.asarray(Image.open(fh).convert("RGB"))


def test_analyse_boxes_faces_and_charts_the_largest(tiny_model_path: Path, photo: np.ndarray):
    annotated, chart, records, summary = analyse(CentreRecognizer(tiny_model_path, 2), photo)
    assert annotated.shape == photo.shape and not np.array_equal(annotated, photo)
    assert len(records) == 2 and set(records[0]) >= {"box", "emotion", "score", "probabilities"}
    assert chart == records[0]["probabilities"]
    assert summary.startswith("2 faces: 1 ") and summary.endswith("shows face 1, the largest.")


def test_analyse_without_a_picture_or_a_face(photo: np.ndarray) -> None:
    assert analyse(NoFaces(), None)[1:] == (None, [], "Upload a photo or take one with the webcam.")
    annotated, chart, records, summary = analyse(NoFaces(), photo)
    assert annotated is photo and chart is None and records == []
    assert summary.startswith("No face found")


def test_annotate_keeps_captions_inside_the_picture(photo: np.ndarray) -> None:
    top_face = Face((10, 0, 40, 40), "surprise", 0.5, {})
    annotated = annotate(photo[:60, :200], [top_face])
    assert annotated.shape == (60, 200, 3)


def test_recognizer_errors_show_in_the_page(photo: np.ndarray) -> None:
    import gradio as gr

    class Broken:
        def detect(self, image: np.ndarray) -> list[Face]:
            raise FacialEmotionError("models/model.keras: model not found; run `dvc repro`")

    app = build_app(Broken())
    handler = app.fns[0].fn
    with pytest.raises(gr.Error, match="model not found"):
        handler(photo)


def test_busy_port_is_one_clear_error(tiny_model_path: Path) -> None:
    from facial_emotion.app import serve

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(FacialEmotionError, match=f"127.0.0.1:{port}: .*pass a free --port"):
            serve(NoFaces(), "127.0.0.1", port)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _chromium(user_data_dir: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,1100", f"--user-data-dir={user_data_dir}",
        # The page must work offline: every host but this machine fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's Chromium: apt-get install -y chromium chromium-driver",
)
def test_browser_upload_shows_boxed_faces_and_emotion(
    tiny_model_path: Path, photo: np.ndarray, tmp_path: Path
) -> None:
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    picture = tmp_path / "face.jpg"
    Image.fromarray(photo).save(picture)
    recognizer = CentreRecognizer(tiny_model_path)
    expected = recognizer.detect(photo)[0].emotion
    port = _free_port()
    app = build_app(recognizer)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    driver = _chromium(tmp_path / "chromium")
    try:
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=file]"))
        driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(picture))
        label = wait.until(
            lambda d: next(
                (e for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=label-output-value]")
                 if e.text.strip()), None
            )
        )  # fmt: skip
        assert label.text.strip() == expected
        wait.until(lambda d: "1 face:" in d.find_element(By.TAG_NAME, "body").text)
        time.sleep(0.5)  # let the annotated image finish painting before the screenshot
        assert driver.save_screenshot(str(tmp_path / "app.png"))
        body = driver.find_element(By.TAG_NAME, "body").text
        assert f"1 {expected}" in body and '"emotion"' in body
    finally:
        driver.quit()
        app.close()


def test_app_command_serves_the_recognizer_it_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from facial_emotion import app as app_module
    from facial_emotion.cli import main

    built: dict[str, Any] = {}

    class Recognizer(NoFaces):
        def __init__(self, model: str | None = None, detector: str = "haar") -> None:
            built.update(model=model, detector=detector)

    def serve(recognizer: Any, host: str, port: int) -> None:
        built.update(recognizer=recognizer, host=host, port=port)

    monkeypatch.setitem(
        sys.modules, "facial_emotion.predict", types.SimpleNamespace(EmotionRecognizer=Recognizer)
    )
    monkeypatch.setattr(app_module, "serve", serve)
    assert main(["app", "--port", "7999", "--model", "m.tflite", "--detector", "dnn"]) == 0
    assert built["model"] == "m.tflite" and built["detector"] == "dnn"
    assert (built["host"], built["port"]) == ("127.0.0.1", 7999)
    assert isinstance(built["recognizer"], Recognizer)
