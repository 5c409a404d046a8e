"""How the served model reads faces a camera spoils: one split's faces blurred, noisy, compressed,
tilted, captured small, or half hidden, read as crops.

FER2013's faces are clean web photos; a webcam's or a phone's are not. This scores the split once
as it is and once per spoilt copy, with the model `predict`, `video` and the app run (the int8
export by default), each face read as `predict` reads a crop (stretched to 0..255). Prints one JSON
line. Run by hand:

    python benchmarks/robustness.py --data /path/to/fer2013
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from scoring_cli import crops_read_right, print_json, scoring_parser, served_faces

from facial_emotion.faces import FACE_SIZE as SIDE

Spoil = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def blurred(sigma: float) -> Spoil:
    """Out of focus, or moving: a Gaussian blur of ``sigma`` pixels of the 48x48 face."""
    return lambda face, rng: cv2.GaussianBlur(face, (0, 0), sigma)


def noisy(sigma: float) -> Spoil:
    """A dark room's sensor noise: Gaussian, ``sigma`` grey levels."""

    def spoil(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.clip(face + rng.normal(0, sigma, face.shape), 0, 255).astype(np.uint8)

    return spoil


def compressed(quality: int) -> Spoil:
    """A JPEG saved again at ``quality``, as messaging apps and video calls do."""

    def spoil(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        _, data = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)

    return spoil


def tilted(degrees: float) -> Spoil:
    """A head tilted ``degrees`` to either side (drawn per face), edges copied outwards."""

    def spoil(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        angle = degrees * rng.choice((-1, 1))
        turn = cv2.getRotationMatrix2D((SIDE / 2 - 0.5, SIDE / 2 - 0.5), angle, 1.0)
        return cv2.warpAffine(face, turn, (SIDE, SIDE), borderMode=cv2.BORDER_REPLICATE)

    return spoil


def captured_small(side: int) -> Spoil:
    """A face ``side`` pixels wide in the photo, enlarged to 48 as `predict` enlarges it."""

    def spoil(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        small = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (SIDE, SIDE), interpolation=cv2.INTER_LINEAR)

    return spoil


def covered(top: int, bottom: int, level: int) -> Spoil:
    """Rows ``top`` to ``bottom`` of the face hidden under one flat ``level``: a face mask over
    nose, mouth and chin, or sunglasses over the eyes."""

    def spoil(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        hidden = face.copy()
        hidden[top:bottom] = level
        return hidden

    return spoil


SPOILS: dict[str, dict[str, Spoil]] = {
    "blur": {f"sigma {s} px": blurred(s) for s in (0.5, 1.0, 2.0)},
    "noise": {f"sigma {s}": noisy(s) for s in (5, 10, 20)},
    "jpeg": {f"quality {q}": compressed(q) for q in (50, 20, 10)},
    "tilt": {f"{d} degrees": tilted(d) for d in (10, 20, 30)},
    "captured small": {f"{s} px": captured_small(s) for s in (32, 24, 16)},
    "covered": {
        "face mask (light, rows 28-48)": covered(28, SIDE, 220),
        "sunglasses (dark, rows 14-24)": covered(14, 24, 20),
    },
}


def main() -> int:
    parser = scoring_parser(__doc__.splitlines()[0], "the shipped int8 model")
    parser.add_argument("--seed", type=int, default=0, help="noise and tilt sides (default 0)")
    args = parser.parse_args()
    return print_json(lambda: score_spoilt(args.model, args.data, args.split, args.seed))


def score_spoilt(model: Path | None, data_path: str, split_name: str, seed: int) -> dict:
    recognizer, faces, truth = served_faces(model, data_path, split_name)
    result: dict[str, dict[str, float]] = {}
    for kind, spoils in SPOILS.items():
        result[kind] = {}
        for name, spoil in spoils.items():
            rng = np.random.default_rng(seed)
            spoilt = np.stack([spoil(face, rng) for face in faces])
            result[kind][name] = crops_read_right(recognizer, spoilt, truth)
    return {
        "model": str(recognizer.model_path),
        "split": split_name,
        "faces": int(len(faces)),
        "as is": crops_read_right(recognizer, faces, truth),
        "accuracy": result,
    }


if __name__ == "__main__":
    sys.exit(main())
