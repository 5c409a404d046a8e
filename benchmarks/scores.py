"""What a score means: how often the served model is right at each score it gives.

`predict`, `video` and the app show each face's top probability as its score, from one pass of
the model they run (the int8 export by default). This groups one split's faces by that score and
prints, per group, how many faces fall in it and how many of those are read right, so "happy 0.80"
can be read as a rate. Prints one JSON line. Run by hand:

    python benchmarks/scores.py --data /path/to/fer2013
"""

from __future__ import annotations

import sys
from pathlib import Path

from scoring_cli import print_json, scoring_parser, served_faces

GROUPS = 10


def main() -> int:
    args = scoring_parser(__doc__.splitlines()[0], "the shipped int8 model").parse_args()
    return print_json(lambda: score_groups(args.model, args.data, args.split))


def score_groups(model: Path | None, data_path: str, split_name: str) -> dict:
    from facial_emotion.evaluation import Evaluation  # not for --help: pandas, scikit-learn

    recognizer, x, truth = served_faces(model, data_path, split_name)
    served = Evaluation(recognizer.classes, truth, recognizer.classify(x))
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
    }


if __name__ == "__main__":
    sys.exit(main())
