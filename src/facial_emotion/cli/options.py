"""Options several commands share, defined once so their help and checks stay the same."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import TypeVar

from facial_emotion.config import SHIFT_PIXELS, Rule

T = TypeVar("T")

DETECTOR_NAMES = ("haar", "mtcnn")  # facial_emotion.faces.DETECTORS, without importing OpenCV


class ParagraphFormatter(argparse.HelpFormatter):
    """argparse's formatter that keeps the blank-line paragraphs of a description or epilog and
    wraps each to the terminal: the raw formatter printed 99-character lines, which an
    80-column or large-font terminal broke mid-word."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        fill = super()._fill_text  # bound here: super() has no instance inside a generator
        return "\n\n".join(fill(p, width, indent) for p in text.strip().split("\n\n"))


def integer(rule: Rule, name: str) -> Callable[[str], int]:
    """An argparse type for a whole number that must keep ``rule``; ``name`` is what argparse
    calls it when the text is no number at all ("invalid count value: 'x'")."""
    holds, wording = rule

    def parse(text: str) -> int:
        value = int(text)
        if not holds(value):
            raise argparse.ArgumentTypeError(f"must be {wording}, got {value}")
        return value

    parse.__name__ = name
    return parse


positive_int = integer((lambda v: v >= 1, "at least 1"), "count")
shift_pixels = integer(SHIFT_PIXELS, "pixel count")  # as evaluate.tta_shift in params.yaml
# Smaller copies hold no face the detectors can find (MTCNN fails on them with native errors)
# faces.MIN_DETECT_SIDE, without importing OpenCV
detect_size = integer((lambda v: v >= 48, "at least 48 pixels"), "pixel count")
# 0, "any free port", would leave the address unknown
port_number = integer((lambda v: 1 <= v <= 65535, "1 to 65535"), "port number")


def probability(text: str) -> float:
    """An argparse type for a probability, 0 to 1."""
    value = float(text)
    if not 0 <= value <= 1:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"must be a probability from 0 to 1, got {text}")
    return value


def add_min_confidence_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min-confidence",
        type=probability,
        metavar="P",
        help='name a face "uncertain" when its score (top probability) is under P; its '
        "probabilities are still given. On FER2013 val the shipped model reads 68%% of faces "
        "right; 0.5 keeps 80%% of them, 75%% right; 0.7 keeps 58%%, 84%% right (its card). A "
        "high score does not say the picture is a face: noise read as a face scores high too",
    )


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="show no progress: no bar on a terminal, where a screen reader reads each redraw, "
        "and no line a minute in a log (TQDM_DISABLE=1 does the same for every command)",
    )


def named(kind: str, fix: str, read: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type refusing an empty ``kind`` ("file", "folder") name with ``fix``, then
    reading the name with ``read``. `--opt "$VAR"` with VAR unset passes "", and Path("") is ".":
    the working folder was read or written without a word, or named as ".: is a folder", a
    name never typed. One refusal, so every command words it alike."""

    def parse(value: str) -> T:
        if not value:
            raise argparse.ArgumentTypeError(
                f'"": an empty {kind} name (an unset variable?); {fix}'
            )
        return read(value)

    parse.__name__ = f"{kind} name"
    return parse


# `--model "$MODEL"` with it unset: predict, video, the app and export said ".: is a folder",
# and evaluate took it for no --model, scoring the shipped model instead
model_file = named("file", "name the model file, or leave out --model for the default", str)


def add_model_option(parser: argparse.ArgumentParser, default: str = "int8 .tflite") -> None:
    parser.add_argument(
        "--model",
        type=model_file,
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
        type=detect_size,
        default=None,
        metavar="PIXELS",
        help=f"longer side of the copy searched for faces (default: {defaults}). Haar's "
        "smallest face is 24 px in that copy, so a face under 24/PIXELS of the image's longer "
        "side is missed: larger finds smaller faces, and is slower",
    )


def detector_options(args: argparse.Namespace, defaults: Mapping[str, object]) -> dict[str, object]:
    """``make_detector`` options: ``defaults`` with ``--detect-size`` applied."""
    options = dict(defaults)
    if args.detect_size is not None:
        options["max_side"] = args.detect_size
    return options


def waiting_note(command: str, path: object, then: str) -> Callable[[], None]:
    """The note a command prints when a FIFO it writes has no program reading it yet: the wait
    looked like a hang (``then``: what happens once one opens it)."""

    def say() -> None:
        print(
            f"facial-emotion {command}: note: waiting for a program to read {path}; {then}",
            file=sys.stderr,
        )

    return say
