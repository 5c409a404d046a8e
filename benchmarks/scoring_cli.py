"""Command-line pieces shared by the benchmarks that score a model on one split of a data set."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from facial_emotion.errors import FacialEmotionError


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
