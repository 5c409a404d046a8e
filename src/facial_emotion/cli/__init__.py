"""The ``facial-emotion`` command: one module per subcommand, with ``add_arguments`` and ``run``."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator

from facial_emotion.errors import FacialEmotionError

COMMANDS: dict[str, str] = {
    "predict": "Read emotions from faces in images, folders or globs.",
    "video": "Read emotions frame by frame from a video file or a webcam.",
    "evaluate": "Evaluate a model on a data set and print JSON metrics.",
    "export": "Export a Keras model to TensorFlow Lite (float32 and int8) with a parity check.",
    "app": "Start the local web app: upload a photo or use the webcam.",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facial-emotion",
        description="Recognise one of seven emotions in faces with a trained model.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"facial_emotion.cli.{name}")
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run, parser=cmd)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``docker stop``, systemd), which cleans up as Ctrl-C does: without it a
    terminated run would leave its half-written outputs behind."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only it can take signals
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # reported with the subcommand's usage, which lists the options it does take
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        with sigterm_as_interrupt():
            return int(args.run(args) or 0)
    except (FacialEmotionError, OSError) as exc:  # OSError: a file no check foresaw
        print(f"facial-emotion {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        stopped = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"facial-emotion {args.command}: {stopped}", file=sys.stderr)
        return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
