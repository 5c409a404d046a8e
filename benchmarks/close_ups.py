"""How photos cropped tight to one face are found and read: FER2013 faces enlarged, searched as
`predict` searches them.

Detectors need background around a face, so `predict` searches an image with none found again
inside a border of its edge pixels (``faces.CLOSE_UP_MARGIN``). This enlarges a sample of a split's
faces to a photo's size, counts the faces the detector finds without that border and with it, and
scores the model on the faces found: read from the detected crop, as `predict` reads the photo,
and from the 48x48 face itself. Prints one JSON line. Run by hand:

    python benchmarks/close_ups.py --data /path/to/fer2013
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from scoring_cli import print_json, scoring_parser, served_faces

from facial_emotion.errors import FacialEmotionError
from facial_emotion.faces import detector_boxes

SIDE = 200  # pixels: a close-up photo's face, about four times FER2013's
SAMPLE = 300


def main() -> int:
    parser = scoring_parser(__doc__.splitlines()[0], "the shipped int8 model")
    parser.add_argument("--faces", type=int, default=SAMPLE, help=f"faces (default {SAMPLE})")
    parser.add_argument("--seed", type=int, default=0, help="which faces (default 0)")
    args = parser.parse_args()
    return print_json(
        lambda: score_close_ups(args.model, args.data, args.split, args.faces, args.seed)
    )


def score_close_ups(
    model: Path | None, data_path: str, split_name: str, sample: int, seed: int
) -> dict:
    recognizer, crops, labels = served_faces(model, data_path, split_name)
    if not 0 < sample <= len(crops):
        raise FacialEmotionError(
            f"--faces {sample}: the {split_name} split has {len(crops)} faces; "
            f"pass 1 to {len(crops)}"
        )
    chosen = np.random.default_rng(seed).choice(len(crops), size=sample, replace=False)
    found_alone = found = right_in_photo = right_as_face = 0
    for i in chosen:
        photo = cv2.resize(crops[i], (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
        found_alone += bool(detector_boxes(recognizer.detector, photo))
        faces = recognizer.detect(photo)  # with the border search, as predict runs
        if not faces:
            continue
        found += 1
        largest = max(faces, key=lambda face: face.box[2] * face.box[3])
        (as_face,) = recognizer.read_crops([crops[i]])
        truth = recognizer.classes[labels[i]]
        right_in_photo += largest.emotion == truth
        right_as_face += as_face.emotion == truth
    return {
        "model": str(recognizer.model_path),
        "split": split_name,
        "faces": sample,
        "seed": seed,
        "side": SIDE,
        "found": {"without border": found_alone, "with border": found},
        "right of those found": {
            "read in the photo": right_in_photo,
            "read at 48 px": right_as_face,
        },
    }


if __name__ == "__main__":
    sys.exit(main())
