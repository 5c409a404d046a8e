"""Is one model really better than another? Paired comparison on the same faces.

Scores both models on one split (flip test-time augmentation unless --no-tta) and prints one JSON
line: each model's accuracy, how many faces only one of them gets right, the exact McNemar
p-value and the 95% interval of the accuracy difference (second minus first; a large p with a wide
interval is no evidence of a tie). Classes are matched by name, as in `facial-emotion evaluate`;
faces of a class either model lacks are left out. A small p (say below 0.05) means the difference
in accuracy is unlikely to be chance on these faces. Either side may be models joined by `+`, whose
probabilities are averaged: an ensemble of separately trained models, scored without building it.
Run by hand:

    python benchmarks/compare.py runs/old.keras runs/new.keras --data /path/to/fer2013
    python benchmarks/compare.py runs/old.keras runs/old.keras+runs/new.keras --data ...
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from scoring_cli import add_data_options, print_json  # noqa: E402

from facial_emotion.cli.options import shift_pixels  # noqa: E402
from facial_emotion.errors import FacialEmotionError  # noqa: E402


def models(spec: str) -> list[Path]:
    """``a.keras`` or ``a.keras+b.keras``: the models whose probabilities are averaged."""
    return [Path(part) for part in spec.split("+")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "first",
        type=models,
        help="model (.keras or .tflite with its .json card), or a+b to average",
    )
    parser.add_argument("second", type=models, help="model(s) to compare with the first")
    add_data_options(parser)
    parser.add_argument("--no-tta", dest="tta", action="store_false", help="no flip averaging")
    parser.add_argument(
        "--tta-shift",
        type=shift_pixels,
        default=0,
        metavar="PIXELS",
        help="also average four crops shifted by PIXELS, as evaluate --tta-shift (default: 0)",
    )
    args = parser.parse_args()
    return print_json(lambda: compare(args))


def compare(args: argparse.Namespace) -> dict:
    # not for --help: pandas, scikit-learn and OpenCV take seconds to import
    from facial_emotion.backends import load_backend
    from facial_emotion.data.sources import load_for_scoring
    from facial_emotion.evaluation import labels_for_model, mcnemar, predict_proba, scorable

    path = Path(args.data)
    names = ["+".join(map(str, paths)) for paths in (args.first, args.second)]
    groups = [
        [load_backend(p, precision="float32") for p in paths] for paths in (args.first, args.second)
    ]
    data, _ = load_for_scoring(path, split=args.split, card=groups[0][0].card)
    split = data.splits[args.split]
    for name, group in zip(names, groups, strict=True):
        if len({tuple(b.card["classes"]) for b in group}) > 1:
            raise FacialEmotionError(f"{name}: averaged models must have the same classes")
    labels = [labels_for_model(split.y, data.classes, tuple(g[0].card["classes"])) for g in groups]
    both = f"both {names[0]} and {names[1]}"
    # The smaller label is -1 (unknown) where either model lacks the face's class.
    known = scorable(np.minimum(*labels), path, data.classes, both)
    right, result = [], {"data": str(path), "split": args.split, "faces": int(known.sum())}
    for key, name, group, y in zip(("first", "second"), names, groups, labels, strict=True):
        probs = np.mean(
            [
                predict_proba(b.predict, split.x[known], tta=args.tta, shift=args.tta_shift)
                for b in group
            ],
            axis=0,
        )
        right.append(np.argmax(probs, axis=1) == y[known])
        result[key] = {"model": name, "accuracy": round(float(right[-1].mean()), 4)}
    return {**result, "tta": args.tta, "tta_shift": args.tta_shift, **mcnemar(*right)}


if __name__ == "__main__":
    sys.exit(main())
