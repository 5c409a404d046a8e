"""Which test-time views pay? One model's accuracy on one split under several sets of views.

`evaluate` averages the mirror image (default) and, with --tta-shift, four shifted crops. This
scores those sets and the other views training augments with (diagonal shifts, zoom, rotation), so
a richer set is added to `evaluate` only if it beats the recipe's by more than chance: each set is
compared with evaluate's default on the same faces (`against_default`: faces only one of them
reads right, the exact McNemar p and the 95% interval of the difference, as `compare.py` gives).
Each view is predicted once and shared by the sets that use it. Prints one JSON line. Run by hand:

    python benchmarks/tta_views.py --data /path/to/fer2013
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from scoring_cli import print_json, scoring_parser  # noqa: E402

from facial_emotion.data.prepared import as_model_input  # noqa: E402


def cross(px: int, kind: str = "shift") -> list[str]:
    return [f"{kind} {dy},{dx}" for dy, dx in ((px, 0), (-px, 0), (0, px), (0, -px))]


def diagonal(px: int) -> list[str]:
    return [f"shift {dy},{dx}" for dy, dx in ((px, px), (px, -px), (-px, px), (-px, -px))]


# Every set also averages each view's mirror image, as `evaluate` does by default.
DEFAULT_SET = "face (evaluate's default)"
VIEW_SETS = {
    DEFAULT_SET: ["face"],
    "4 crops at 1 px": ["face", *cross(1)],
    "4 crops at 2 px (evaluate --tta-shift 2)": ["face", *cross(2)],
    "4 crops at 3 px": ["face", *cross(3)],
    # training's pad-and-crop fills with zeros, where `evaluate`'s crops repeat the edge pixels
    "4 crops at 2 px, zero fill": ["face", *cross(2, "zeroshift")],
    "4 crops at 3 px, zero fill": ["face", *cross(3, "zeroshift")],
    "8 crops at 2 px": ["face", *cross(2), *diagonal(2)],
    "zoom 0.95 and 1.05": ["face", "zoom 0.95", "zoom 1.05"],
    "rotation -5 and 5 degrees": ["face", "rotate -5", "rotate 5"],
    "4 crops at 2 px, zoom and rotation": [
        "face",
        *cross(2),
        "zoom 0.95",
        "zoom 1.05",
        "rotate -5",
        "rotate 5",
    ],
}


def warped(x: np.ndarray, *, angle: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """Faces rotated ``angle`` degrees and scaled about their centre, edges repeated."""
    import cv2

    h, w = x.shape[1:3]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, scale)
    return np.stack(
        [cv2.warpAffine(f[..., 0], matrix, (w, h), borderMode=cv2.BORDER_REPLICATE) for f in x]
    )[..., None]


def view(x: np.ndarray, name: str) -> np.ndarray:
    from facial_emotion.evaluation import shifted

    kind, _, arg = name.partition(" ")
    if kind == "face":
        return x
    if kind in ("shift", "zeroshift"):
        dy, dx = (int(v) for v in arg.split(","))
        return shifted(x, dy, dx, fill="edge" if kind == "shift" else "constant")
    if kind == "zoom":
        return warped(x, scale=float(arg))
    return warped(x, angle=float(arg))


def main() -> int:
    args = scoring_parser(__doc__.splitlines()[0], "the shipped Keras model").parse_args()
    from facial_emotion.predict import default_model_path  # not for --help: OpenCV

    return print_json(
        lambda: score_view_sets(args.model or default_model_path(), args.data, args.split)
    )


def score_view_sets(model: Path, data_path: str, split_name: str) -> dict:
    # not for --help: pandas, scikit-learn and OpenCV take seconds to import
    from facial_emotion.backends import load_backend
    from facial_emotion.data.sources import load_for_scoring
    from facial_emotion.evaluation import labels_for_model, mcnemar, predict_proba, scorable

    backend = load_backend(model, precision="float32")
    data, _ = load_for_scoring(Path(data_path), split=split_name, card=backend.card)
    split = data.splits[split_name]
    labels = labels_for_model(split.y, data.classes, tuple(backend.card["classes"]))
    known = scorable(labels, data_path, data.classes, str(model))
    faces = as_model_input(split.x[known])
    names = sorted({name for views in VIEW_SETS.values() for name in views})
    # each view averaged with its mirror; predict_proba takes (N, 48, 48) faces
    probs = {
        name: predict_proba(backend.predict, view(faces, name)[..., 0], tta=True) for name in names
    }
    right = {
        set_name: np.mean([probs[v] for v in views], 0).argmax(1) == labels[known]
        for set_name, views in VIEW_SETS.items()
    }
    default = right[DEFAULT_SET]
    return {
        "model": str(model),
        "split": split_name,
        "faces": int(known.sum()),
        "accuracy_with_flip": {name: round(float(r.mean()), 4) for name, r in right.items()},
        "against_default": {
            name: mcnemar(default, r) for name, r in right.items() if name != DEFAULT_SET
        },
        "views_per_set": {k: 2 * len(v) for k, v in VIEW_SETS.items()},
    }


if __name__ == "__main__":
    sys.exit(main())
