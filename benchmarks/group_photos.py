"""How Haar finds small faces in phone-sized group photos at each search size, and at what cost.

Photos cannot be shipped or downloaded here, so each "group photo" is composed: six faces of a
data set's split (FER2013 val, 48x48), enlarged to one face size, on a 4032x3024 background made
from a faceless picture that ships with an installed package (scikit-learn, Gradio). The same
backgrounds alone are the faceless photos, where every box is a false one. Each search size
(``--detect-size``), and a second search of a larger copy made only when the first finds no face,
is scored on the same photos: faces found (a box centred on a face, 0.5-2 times its size), false
boxes, and CPU milliseconds per photo. Prints one JSON line. Run by hand:

    python benchmarks/group_photos.py --data /path/to/fer2013
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scoring_cli import add_data_options, print_json
from timing import speed_host

if TYPE_CHECKING:  # the rest is imported where used: --help need not wait a second for OpenCV
    from facial_emotion.faces import Box, HaarDetector

PHOTO = (4032, 3024)  # a 12 MP phone photo, landscape
FACE_SIZES = (100, 130, 160, 200, 260)  # pixels: a group 2-5 m from a phone camera
FACES_PER_PHOTO = 6
# package, path inside it: faceless pictures (Gradio's logo and avatar, and matplotlib's portrait,
# hold faces; scikit-learn's china.jpg is a temple, flower.jpg a flower)
BACKGROUNDS = (
    ("sklearn", "datasets/images/china.jpg"),
    ("sklearn", "datasets/images/flower.jpg"),
    ("gradio", "media_assets/images/bus.png"),
    ("gradio", "media_assets/images/cheetah.jpg"),
    ("gradio", "media_assets/images/cheetah1.jpg"),
    ("gradio", "media_assets/images/lion.jpg"),
    ("gradio", "media_assets/images/tower.jpg"),
    ("gradio", "test_data/cheetah2.jpg"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_options(parser)
    parser.add_argument("--seed", type=int, default=0, help="which faces go where (default 0)")
    args = parser.parse_args()
    return print_json(lambda: benchmark(args.data, args.split, args.seed))


def settings() -> dict[str, tuple[HaarDetector, HaarDetector | None]]:
    """Name: the detector, and the one searching again when it finds none, if any."""
    from facial_emotion.faces import HaarDetector

    return {
        **{f"{side} px": (HaarDetector(max_side=side), None) for side in (640, 1024, 1600)},
        **{
            f"640 px, then 1600 px with {n} neighbours when none is found": (
                HaarDetector(max_side=640),
                HaarDetector(max_side=1600, min_neighbors=n),
            )
            for n in (4, 8)
        },
    }


def benchmark(data_path: str, split_name: str, seed: int) -> dict:
    from facial_emotion.data.sources import load_for_scoring
    from facial_emotion.faces import find_boxes

    data, _ = load_for_scoring(Path(data_path), split=split_name)
    faces = data.splits[split_name].x
    rng = np.random.default_rng(seed)
    backgrounds = [background(package, path) for package, path in BACKGROUNDS]
    photos = [(bg, []) for bg in backgrounds]  # faceless
    for size in FACE_SIZES:
        for bg in backgrounds:
            chosen = faces[rng.choice(len(faces), FACES_PER_PHOTO, replace=False)]
            photos.append(group_photo(bg, chosen, size, rng))
    result = {}
    for name, (first, retry) in settings().items():
        found = {size: 0 for size in FACE_SIZES}
        false_in_groups = false_in_faceless = 0
        cpu = []
        for photo, truth in photos:
            start = time.process_time()
            boxes = find_boxes(photo, first)
            if not boxes and retry is not None:
                boxes = retry.boxes(photo)  # the larger copy only: the margin found none
            cpu.append(time.process_time() - start)
            hits = [any(matches(box, face) for box in boxes) for face in truth]
            false = sum(not any(matches(box, face) for face in truth) for box in boxes)
            if truth:
                found[truth[0][2]] += sum(hits)
                false_in_groups += false
            else:
                false_in_faceless += false
        result[name] = {
            "faces found by size": {
                str(size): f"{n}/{FACES_PER_PHOTO * len(backgrounds)}" for size, n in found.items()
            },
            "false boxes in group photos": false_in_groups,
            "false boxes in faceless photos": false_in_faceless,
            "cpu ms per group photo": round(1000 * float(np.median(cpu[len(backgrounds) :]))),
            "cpu ms per faceless photo": round(1000 * float(np.median(cpu[: len(backgrounds)]))),
        }
    return {
        "photo": list(PHOTO),
        "faces per photo": FACES_PER_PHOTO,
        "settings": result,
        "host": speed_host(),  # the cpu ms were measured there
    }


def background(package: str, path: str, size: tuple[int, int] = PHOTO) -> np.ndarray:
    """A faceless picture shipped inside ``package``, cut and scaled to fill ``size`` (w, h)."""
    import cv2

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SystemExit(f"error: {package} is not installed; it ships the backgrounds")
    picture = cv2.imread(str(Path(spec.origin).parent / path), cv2.IMREAD_COLOR)
    if picture is None:
        raise SystemExit(f"error: {package}'s {path} is missing; reinstall {package}")
    h, w = picture.shape[:2]
    scale = max(size[0] / w, size[1] / h)
    big = cv2.resize(picture, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
    top, left = (big.shape[0] - size[1]) // 2, (big.shape[1] - size[0]) // 2
    return cv2.cvtColor(big[top : top + size[1], left : left + size[0]], cv2.COLOR_BGR2RGB)


def group_photo(
    bg: np.ndarray, faces: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[Box]]:
    """``faces`` enlarged to ``size`` px and pasted side by side, as a row of people stands."""
    import cv2

    photo = bg.copy()
    boxes = []
    step = PHOTO[0] // len(faces)
    for i, face in enumerate(faces):
        big = cv2.resize(face.reshape(48, 48), (size, size), interpolation=cv2.INTER_CUBIC)
        x = i * step + int(rng.integers(0, max(1, step - size)))
        y = PHOTO[1] // 3 + int(rng.integers(-size // 2, size // 2 + 1))
        photo[y : y + size, x : x + size] = big[..., None]
        boxes.append((x, y, size, size))
    return photo, boxes


def matches(box: Box, face: Box) -> bool:
    """``box`` is centred on ``face`` and of a size a detector gives it (0.5-2 times)."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    inside = face[0] <= cx <= face[0] + face[2] and face[1] <= cy <= face[1] + face[3]
    return inside and 0.5 <= box[2] / face[2] <= 2


if __name__ == "__main__":
    raise SystemExit(main())
