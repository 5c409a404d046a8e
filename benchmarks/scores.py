"""What a score means: how often the served model is right at each score it gives.

`predict`, `video` and the app show each face's top probability as its score, from one pass of
the model they run (the int8 export by default). This groups one split's faces by that score and
prints, per group, how many faces fall in it and how many of those are read right, so "happy 0.80"
can be read as a rate; and, for each ``--min-confidence`` an app might pass, how many faces keep an
emotion (the rest are "uncertain") and how often those are right. Prints one JSON line. Run by
hand:

    python benchmarks/scores.py --data /path/to/fer2013
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scoring_cli import print_json, scoring_parser, served_faces

GROUPS = 10
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # --min-confidence values to report


def main() -> int:
    args = scoring_parser(__doc__.splitlines()[0], "the shipped int8 model").parse_args()
    return print_json(lambda: score_groups(args.model, args.data, args.split))


def score_groups(model: Path | None, data_path: str, split_name: str) -> dict:
    from facial_emotion.evaluation import Evaluation  # not for --help: pandas, scikit-learn

    recognizer, x, truth = served_faces(model, data_path, split_name)
    probs = recognizer.classify(x)
    served = Evaluation(recognizer.classes, truth, probs)
    table = served.calibration(GROUPS)
    return {
        "model": str(recognizer.model_path),
        "split": split_name,
        "faces": len(x),
        "accuracy": round(served.accuracy, 4),
        "calibration_error": round(served.calibration_error(GROUPS), 4),
        "groups": [
            {
                "score": f"{row.start:.1f}-{row.to:.1f}",
                "faces": int(row.faces),
                "mean_score": round(float(row.confidence), 3),
                "right": round(float(row.accuracy), 3),
            }
            for row in table.rename(columns={"from": "start"}).itertuples()
        ],
        "coverage": coverage(probs, truth, recognizer.classes),
    }


def coverage(probs: np.ndarray, truth: np.ndarray, classes: tuple[str, ...]) -> list[dict]:
    """Per ``min_confidence``: the share of faces that keep an emotion, how often those are read
    right, and each class's share kept (an app abstains on some emotions far more than others)."""
    score, right = probs.max(axis=1), probs.argmax(axis=1) == truth
    rows = []
    for t in THRESHOLDS:
        kept = score >= t
        rows.append(
            {
                "min_confidence": t,
                "kept": round(float(kept.mean()), 4),
                "right_of_kept": round(float(right[kept].mean()), 4) if kept.any() else None,
                "kept_per_class": {
                    c: round(float(kept[truth == k].mean()), 3)
                    for k, c in enumerate(classes)
                    if (truth == k).any()
                },
            }
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
