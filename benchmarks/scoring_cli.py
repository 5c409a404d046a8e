"""Command-line pieces shared by the benchmarks that score a model on one split of a data set."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facial_emotion.errors import FacialEmotionError

if TYPE_CHECKING:
    from facial_emotion.predict import EmotionRecognizer


def scoring_parser(description: str, default_model: str) -> argparse.ArgumentParser:
    """The options of a benchmark that scores one model on one split: --model, --data, --split."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--model",
        type=Path,
        help=f"a .keras or .tflite model with its .json card (default: {default_model})",
    )
    add_data_options(parser)
    return parser


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="data set file or folder (see data.md)")
    parser.add_argument("--split", default="val", help="split to score (default: val)")


def print_json(score: Callable[[], dict]) -> int:
    """Print ``score()`` as one JSON line (status 0), or its error as one line (status 2)."""
    try:
        result = score()
    except FacialEmotionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


def served_faces(
    model: Path | None, data_path: str, split_name: str
) -> tuple[EmotionRecognizer, np.ndarray, np.ndarray]:
    """The recognizer ``predict`` would make of ``model``, and one split's faces it can read with
    their labels in its class order: faces of classes it lacks and flat faces (which ``predict``
    refuses) are left out, and a split left with none is refused."""
    from facial_emotion.data.sources import load_for_scoring
    from facial_emotion.evaluation import labels_for_model, scorable
    from facial_emotion.predict import EmotionRecognizer

    recognizer = EmotionRecognizer(model)
    data, _ = load_for_scoring(Path(data_path), split=split_name, card=recognizer.backend.card)
    split = data.splits[split_name]
    labels = labels_for_model(split.y, data.classes, recognizer.classes)
    known = scorable(labels, data_path, data.classes, str(recognizer.model_path))
    x, truth = split.x[known], labels[known]
    not_flat = x.reshape(len(x), -1).std(1) > 0
    if not not_flat.any():  # every score would be of no face: numpy and scikit-learn fail on it
        raise FacialEmotionError(
            f"{data_path}: its {split_name} split has no face to read ({len(x)} images of the "
            "model's classes, none with more than one gray level); pass --data or --split "
            "with face images"
        )
    return recognizer, x[not_flat], truth[not_flat]


def crops_read_right(recognizer: EmotionRecognizer, faces: np.ndarray, truth: np.ndarray) -> float:
    """The share of 48x48 ``faces`` that ``recognizer`` reads as ``truth``, each read as `predict`
    reads a crop (stretched to 0..255), rounded to four places."""
    read = [recognizer.classes.index(face.emotion) for face in recognizer.read_crops(list(faces))]
    return round(float(np.mean(np.array(read) == truth)), 4)
