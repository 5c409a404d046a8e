"""How the served model reads faces in dim light: one split's faces darkened, read as crops.

FER2013's faces span the full 0..255 range; a face from a dim webcam does not. `read_crops` (and
every detected face) stretches each crop to that range before the model sees it. This scores the
split at several brightness factors with the model `predict`, `video` and the app run (the int8
export by default), with the stretch and without it. Prints one JSON line. Run by hand:

    python benchmarks/dim_faces.py --data /path/to/fer2013
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scoring_cli import crops_read_right, print_json, scoring_parser, served_faces

FACTORS = (1.0, 0.6, 0.4, 0.25, 0.15)


def main() -> int:
    args = scoring_parser(__doc__.splitlines()[0], "the shipped int8 model").parse_args()
    return print_json(lambda: score_dimmed(args.model, args.data, args.split))


def score_dimmed(model: Path | None, data_path: str, split_name: str) -> dict:
    recognizer, faces, truth = served_faces(model, data_path, split_name)
    x = faces.astype(np.float32)
    accuracy: dict[str, dict[str, float]] = {"stretched": {}, "as_is": {}}
    for factor in FACTORS:
        dark = np.clip(np.round(x * factor), 0, 255).astype(np.uint8)
        key = f"x{factor} (mean pixel {dark.mean():.0f})"
        # 48x48 crops: only the stretch changes them
        accuracy["stretched"][key] = crops_read_right(recognizer, dark, truth)
        # the model on the crops unchanged (classify stretches them too, since 2026-12-06)
        as_is = recognizer.backend.predict(dark[..., None]).argmax(1)
        accuracy["as_is"][key] = round(float(np.mean(as_is == truth)), 4)
    return {
        "model": str(recognizer.model_path),
        "split": split_name,
        "faces": int(len(x)),
        "accuracy": accuracy,
    }


if __name__ == "__main__":
    sys.exit(main())
