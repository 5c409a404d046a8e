"""Options several commands share, defined once so their help and checks stay the same."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from facial_emotion.errors import FacialEmotionError

DETECTOR_NAMES = ("haar", "mtcnn")  # facial_emotion.faces.DETECTORS, without importing OpenCV


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def shift_pixels(text: str) -> int:
    value = int(text)
    if not 0 <= value < 24:
        raise argparse.ArgumentTypeError(f"must be 0 to 23 pixels, got {value}")
    return value


def port_number(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0 to 65535, got {value}")
    return value


def refuse_overwrite(inputs: Iterable[Path], outputs: Iterable[Path]) -> None:
    """Stop before an output would replace an input or another output: the lost file would be
    the user's photo or video, silently."""
    read = {path.resolve() for path in inputs}
    written: set[Path] = set()
    for path in outputs:
        target = path.resolve()
        if target in read:
            raise FacialEmotionError(
                f"{path}: is an input, and an output would replace it; "
                "write the outputs to another folder or file name"
            )
        if target in written:
            raise FacialEmotionError(f"{path}: named for two outputs; give each its own file name")
        written.add(target)


def add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        help="a .keras or .tflite model with its .json card (default: the model shipped with "
        "the package; after `dvc repro`: models/model.keras)",
    )


def add_detector_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--detector",
        choices=DETECTOR_NAMES,
        default="haar",
        help="haar: fast, frontal faces (default); mtcnn: also turned, dim, small faces; slower",
    )
