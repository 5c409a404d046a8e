"""How many faces each detector finds in a 640x480 frame, how many false boxes it gives, and how
long it takes, at the settings ``predict`` (photos) and ``video`` use.

Frames are composed, as in ``group_photos.py``: faces of a data set's split (FER2013 val, 48x48)
enlarged and pasted on faceless pictures that ship with installed packages, cut to 640x480. Each
background holds, per round, one frame of four small faces (60-90 px, people across a room) and
one of a close face (160-240 px, a webcam); the backgrounds alone are the faceless frames. A face
is found by a box centred on it, 0.5-2 times its size. Prints one JSON line. Run by hand:

    python benchmarks/detectors.py --data /path/to/fer2013
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from group_photos import BACKGROUNDS, background, matches
from scoring_cli import add_data_options, print_json
from timing import speed_host

if TYPE_CHECKING:  # the rest is imported where used: --help need not wait a second for OpenCV
    from facial_emotion.faces import Box

FRAME = (640, 480)
SMALL, CLOSE = (60, 90), (160, 240)  # face sides in pixels
SETTINGS = {  # name: detector name, and whether with video's options (else predict's)
    "haar, photos (predict, the app)": ("haar", False),
    "haar, video (video, webcam)": ("haar", True),
    "mtcnn, photos": ("mtcnn", False),
    "mtcnn, video": ("mtcnn", True),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="which faces go where (default 0)")
    parser.add_argument("--rounds", type=int, default=3, help="frames per background and kind")
    args = parser.parse_args()
    return print_json(lambda: benchmark(args.data, args.split, args.seed, args.rounds))


def benchmark(data_path: str, split_name: str, seed: int, rounds: int) -> dict:
    from facial_emotion.data.sources import load_for_scoring
    from facial_emotion.faces import find_boxes, make_detector
    from facial_emotion.video import VIDEO_DETECTOR_OPTIONS

    data, _ = load_for_scoring(Path(data_path), split=split_name)
    faces = data.splits[split_name].x
    rng = np.random.default_rng(seed)
    backgrounds = [background(package, path, FRAME) for package, path in BACKGROUNDS]
    frames = [(bg, []) for bg in backgrounds]  # faceless
    for _ in range(rounds):
        for bg in backgrounds:
            frames.append(composed(bg, faces, 4, SMALL, rng))
            frames.append(composed(bg, faces, 1, CLOSE, rng))
    total = sum(len(truth) for _, truth in frames)
    total_small = sum(face[2] <= SMALL[1] for _, truth in frames for face in truth)
    result = {}
    for name, (detector_name, as_video) in SETTINGS.items():
        options = VIDEO_DETECTOR_OPTIONS[detector_name] if as_video else {}
        detector = make_detector(detector_name, **options)
        find_boxes(frames[-1][0], detector)  # loads the model before the clock runs
        found = {"small": 0, "close": 0}
        false = 0
        seconds = []
        for frame, truth in frames:
            start = time.perf_counter()
            boxes = find_boxes(frame, detector)
            seconds.append(time.perf_counter() - start)
            for face in truth:
                kind = "small" if face[2] <= SMALL[1] else "close"
                found[kind] += any(matches(box, face) for box in boxes)
            false += sum(not any(matches(box, face) for face in truth) for box in boxes)
        with_faces = seconds[len(backgrounds) :]
        result[name] = {
            "faces found": f"{sum(found.values())}/{total}",
            "small faces found": f"{found['small']}/{total_small}",
            "close faces found": f"{found['close']}/{total - total_small}",
            "false boxes": false,
            "ms per frame with faces": round(1000 * float(np.median(with_faces))),
        }
    return {
        "frame": list(FRAME),
        "frames": len(frames),
        "faceless frames": len(backgrounds),
        "settings": result,
        "host": speed_host(),  # the ms per frame were measured there
    }


def composed(
    bg: np.ndarray, faces: np.ndarray, count: int, sides: tuple[int, int], rng: np.random.Generator
) -> tuple[np.ndarray, list[Box]]:
    """``count`` random faces, each ``sides`` px a side, side by side across a copy of ``bg``."""
    import cv2

    frame = bg.copy()
    boxes = []
    step = FRAME[0] // count
    for i, face in enumerate(faces[rng.choice(len(faces), count, replace=False)]):
        side = int(rng.integers(sides[0], sides[1] + 1))
        big = cv2.resize(face.reshape(48, 48), (side, side), interpolation=cv2.INTER_CUBIC)
        x = i * step + int(rng.integers(0, max(1, step - side)))
        y = int(rng.integers(0, FRAME[1] - side))
        frame[y : y + side, x : x + side] = big[..., None]
        boxes.append((x, y, side, side))
    return frame, boxes


if __name__ == "__main__":
    raise SystemExit(main())
