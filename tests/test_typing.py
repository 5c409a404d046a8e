"""A typed program that uses the package as the README shows passes mypy --strict, and its
mistakes are caught: integrators run mypy or pyright in their CI, and a hint that refused a
detector the README describes, or an ``Any`` that let any name through, failed or blinded it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy is in requirements.txt: pip install -r requirements.txt")

SRC = Path(__file__).resolve().parents[1] / "src"

README_PROGRAM = """
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

import facial_emotion
from facial_emotion import EmotionRecognizer, Face, FacialEmotionError
from facial_emotion.faces import make_detector
from facial_emotion.paths import image_files
from facial_emotion.predict import load_image
from facial_emotion.video import VIDEO_DETECTOR_OPTIONS, FrameReading, process_video


class ArrayDetector:  # the README's detector of one's own: crop_scale and boxes(), no name
    crop_scale = 1.0

    def boxes(self, image: np.ndarray) -> np.ndarray:  # as OpenCV's detectMultiScale gives
        return np.array([[0, 0, 10, 10]])


@dataclass(frozen=True)
class FrozenDetector:
    crop_scale: float = 1.02

    def boxes(self, image: np.ndarray) -> list[tuple[float, float, float, float]]:
        return [(0.0, 0.0, 10.5, 10.5)]


class ScoredDetector:
    crop_scale = 1.0

    def boxes(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        return self.scored_boxes(image)[0]

    def scored_boxes(self, image: np.ndarray) -> tuple[list[tuple[int, int, int, int]], list[int]]:
        return [(0, 0, 10, 10)], [3]  # Haar's count of windows


def main() -> None:
    version: str = facial_emotion.__version__
    rec = EmotionRecognizer(detector=make_detector("haar", max_side=1600), min_confidence=0.7)
    EmotionRecognizer("models/model.keras", precision="float32", max_pixels=25_000_000)
    classes: tuple[str, ...] = rec.classes
    faces: list[Face] = rec.detect("photo.jpg")
    faces = rec.detect(Path("photo.jpg").read_bytes())
    with open("photo.jpg", "rb") as file:
        faces = rec.detect(file)
    faces = rec.detect(Image.open("photo.jpg"))
    faces = rec.detect(np.zeros((48, 48), np.uint8))
    box: tuple[int, int, int, int] = faces[0].box
    print(version, classes, faces[0].emotion, faces[0].score + 1, box, faces[0].to_dict())
    print(faces[0].probabilities["happy"] + 1, faces[0].detector_score)
    batch: list[list[Face]] = rec.detect_batch(["a.jpg", "b.jpg"])
    img1, img2 = load_image("a.jpg"), load_image("b.jpg")
    crops: list[Face] = rec.read_crops([img1[:96, :96], img2[:96, :96]])
    print(batch, crops)
    paths = image_files(Path("photos"))
    for path, found in zip(paths, rec.detect_batch(paths, errors="return")):
        if isinstance(found, FacialEmotionError):
            print(f"skipped {found}")
        else:
            print(path, [(face.emotion, round(face.score, 2)) for face in found])
    for detector in (ArrayDetector(), FrozenDetector(), ScoredDetector()):
        EmotionRecognizer(detector=detector)

    def on_frame(reading: FrameReading) -> bool:
        for face_id, face in zip(reading.ids, reading.faces):
            print(reading.time, face_id, face.emotion, face.score)
        return reading.frame < 10

    video_rec = EmotionRecognizer(detector=make_detector("haar", **VIDEO_DETECTOR_OPTIONS["haar"]))
    frames: int = process_video(0, video_rec, smooth=5, on_frame=on_frame).frames
    print(frames)
"""

# Each line marked "# error" must be reported, and no other
MISTAKES = """
import facial_emotion
from facial_emotion import EmotionRecognizer


class NoBoxes:
    crop_scale = 1.0


rec = facial_emotion.EmotionRecogniser()  # error
major: int = facial_emotion.__version__  # error
found: int = EmotionRecognizer().detect("photo.jpg")  # error
EmotionRecognizer(detector=NoBoxes())  # error
EmotionRecognizer().detect_batch(["a.jpg"], errors="ignore")  # error
"""


def test_a_typed_program_using_the_readme_api_passes_mypy_and_its_mistakes_are_caught(tmp_path):
    (tmp_path / "readme_program.py").write_text(README_PROGRAM)
    (tmp_path / "mistakes.py").write_text(MISTAKES)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent"]
        + ["--cache-dir", str(tmp_path / "cache"), "readme_program.py", "mistakes.py"],
        cwd=tmp_path,
        # the package as this clone's src/ has it, whichever clone the venv was installed from
        env={**os.environ, "MYPYPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    reported = {
        (match[1], int(match[2]))
        for match in re.finditer(r"^(\w+)\.py:(\d+): error:", run.stdout, re.MULTILINE)
    }
    marked = {
        ("mistakes", number)
        for number, line in enumerate(MISTAKES.splitlines(), 1)
        if line.endswith("# error")
    }
    assert reported == marked, run.stdout + run.stderr


def test_the_package_itself_passes_mypy_as_pyproject_configures_it(tmp_path):
    """`python -m mypy src/facial_emotion` (pyproject's [tool.mypy]) reports nothing: its 60-odd
    errors buried the ones that were bugs (an awaitable read() that is no coroutine raised an
    AttributeError in place of the message), and a contributor could not tell a new one."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(SRC / "facial_emotion"),
        ],
        cwd=SRC.parent,  # where pyproject.toml is
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
