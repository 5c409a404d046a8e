"""Options several commands share, defined once so their help and checks stay the same."""

from __future__ import annotations

import argparse

from facial_emotion.config import SHIFT_PIXELS

DETECTOR_NAMES = ("haar", "mtcnn")  # facial_emotion.faces.DETECTORS, without importing OpenCV


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def shift_pixels(text: str) -> int:
    value = int(text)
    holds, wording = SHIFT_PIXELS  # as evaluate.tta_shift in params.yaml
    if not holds(value):
        raise argparse.ArgumentTypeError(f"must be {wording}, got {value}")
    return value


def port_number(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 65535:  # 0, "any free port", would leave the address unknown
        raise argparse.ArgumentTypeError(f"must be 1 to 65535, got {value}")
    return value


def add_model_option(parser: argparse.ArgumentParser, default: str = "int8 .tflite") -> None:
    parser.add_argument(
        "--model",
        help=f"a .keras or .tflite model with its .json card (default: the shipped FER2013 "
        f"model's {default}; pass models/model.keras for the one `dvc repro` trains)",
    )


def add_detector_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--detector",
        choices=DETECTOR_NAMES,
        default="haar",
        help="haar: fast, frontal faces (default); mtcnn: also turned, dim, small faces; slower",
    )


def add_detect_size_option(parser: argparse.ArgumentParser, defaults: str) -> None:
    parser.add_argument(
        "--detect-size",
        type=positive_int,
        default=None,
        metavar="PIXELS",
        help=f"longer side of the copy searched for faces (default: {defaults}). Haar's "
        "smallest face is 24 px in that copy, so a face under 24/PIXELS of the image's longer "
        "side is missed: larger finds smaller faces, and is slower",
    )


def detector_options(args: argparse.Namespace, defaults: dict[str, object]) -> dict[str, object]:
    """``make_detector`` options: ``defaults`` with ``--detect-size`` applied."""
    options = dict(defaults)
    if args.detect_size is not None:
        options["max_side"] = args.detect_size
    return options
