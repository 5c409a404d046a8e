"""Options several commands share, defined once so their help and checks stay the same."""

from __future__ import annotations

import argparse

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
    if not 1 <= value <= 65535:  # 0, "any free port", would leave the address unknown
        raise argparse.ArgumentTypeError(f"must be 1 to 65535, got {value}")
    return value


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
