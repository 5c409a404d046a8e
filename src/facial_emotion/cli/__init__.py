"""The ``facial-emotion`` command: one module per subcommand, with ``add_arguments`` and ``run``."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from importlib.metadata import PackageNotFoundError, version

from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import interrupted_status, sigterm_as_interrupt

COMMANDS: dict[str, str] = {
    "predict": "Read emotions from faces in images, folders or globs.",
    "video": "Read emotions frame by frame from a video file or a webcam.",
    "evaluate": "Evaluate a model on a data set and print JSON metrics.",
    "export": "Export a Keras model to TensorFlow Lite (float32 and int8) with a parity check.",
    "app": "Start the local web app: upload a photo or use the webcam.",
}


def installed_version() -> str:
    try:
        return version("facial-emotion")
    except PackageNotFoundError:  # run from a checkout that was not installed with pip
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facial-emotion",
        description="Recognise one of seven emotions in faces with a trained model.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"facial_emotion.cli.{name}")
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run, parser=cmd)
    return parser


def main(argv: list[str] | None = None) -> int:
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # reported with the subcommand's usage, which lists the options it does take
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        with sigterm_as_interrupt():
            return int(args.run(args) or 0)
    except BrokenPipeError:  # the reader stopped early (`| head`): end quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # for the exit's flush
        return 128 + signal.SIGPIPE
    except (FacialEmotionError, OSError) as exc:  # OSError: a file no check foresaw
        print(f"facial-emotion {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        return interrupted_status(f"facial-emotion {args.command}", exc)
