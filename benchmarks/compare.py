"""Is one model really better than another? Paired comparison on the same faces.

Scores both models on one split (flip test-time augmentation unless --no-tta) and prints one JSON
line: each model's accuracy, how many faces only one of them gets right, and the exact McNemar
p-value. Classes are matched by name, as in `facial-emotion evaluate`; faces of a class either
model lacks are left out. A small p (say below 0.05) means the difference in accuracy is unlikely
to be chance on these faces. Run by hand:

    python benchmarks/compare.py runs/old.keras runs/new.keras --data ../shared/data/fer2013
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from facial_emotion.backends import load_backend  # noqa: E402
from facial_emotion.cli.options import shift_pixels  # noqa: E402
from facial_emotion.data.sources import load_for_scoring  # noqa: E402
from facial_emotion.errors import FacialEmotionError  # noqa: E402
from facial_emotion.evaluation import labels_for_model, mcnemar, predict_proba, scorable  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="model (.keras or .tflite with its .json card)")
    parser.add_argument("second", type=Path, help="model to compare with the first")
    parser.add_argument("--data", required=True, help="data set file or folder (see data.md)")
    parser.add_argument("--split", default="val", help="split to score (default: val)")
    parser.add_argument("--no-tta", dest="tta", action="store_false", help="no flip averaging")
    parser.add_argument(
        "--tta-shift", type=shift_pixels, default=0, help="also average shifted crops"
    )
    args = parser.parse_args()
    try:
        print(json.dumps(compare(args)))
    except FacialEmotionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def compare(args: argparse.Namespace) -> dict:
    path = Path(args.data)
    data, _ = load_for_scoring(path, split=args.split)
    split = data.splits[args.split]
    backends = [load_backend(p, precision="float32") for p in (args.first, args.second)]
    labels = [labels_for_model(split.y, data.classes, tuple(b.card["classes"])) for b in backends]
    both = f"both {args.first} and {args.second}"
    # The smaller label is -1 (unknown) where either model lacks the face's class.
    known = scorable(np.minimum(*labels), path, data.classes, both)
    right, result = [], {"data": str(path), "split": args.split, "faces": int(known.sum())}
    for key, model_path, backend, y in zip(
        ("first", "second"), (args.first, args.second), backends, labels, strict=True
    ):
        probs = predict_proba(backend.predict, split.x[known], tta=args.tta, shift=args.tta_shift)
        right.append(np.argmax(probs, axis=1) == y[known])
        result[key] = {"model": str(model_path), "accuracy": round(float(right[-1].mean()), 4)}
    return {**result, "tta": args.tta, "tta_shift": args.tta_shift, **mcnemar(*right)}


if __name__ == "__main__":
    sys.exit(main())
